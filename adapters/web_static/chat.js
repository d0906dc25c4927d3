// Handledarbot web chat. Every text from the user or the knowledge base is set with
// textContent or as an attribute value, never parsed as HTML.
"use strict";

(function () {
  var UI = {
    sv: {
      you: "Du",
      bot: "Handledarbot",
      thinking: "Handledarbot skriver …",
      offline: "Kunde inte nå servern. Kontrollera anslutningen och försök igen.",
      failed: "Något gick fel. Försök igen.",
      download: "Ladda ner",
      entry: "Post",
      score: "poäng",
      why: "Varför detta svar?",
      noEntry: "ingen post matchade",
      chooseLead: "Välj ett alternativ:"
    },
    en: {
      you: "You",
      bot: "Handledarbot",
      thinking: "Handledarbot is typing …",
      offline: "Could not reach the server. Check the connection and try again.",
      failed: "Something went wrong. Please try again.",
      download: "Download",
      entry: "Entry",
      score: "score",
      why: "Why this reply?",
      noEntry: "no entry matched",
      chooseLead: "Choose one:"
    }
  };
  var SESSION_KEY = "handledarbot.session";
  var INBOX_EVERY = 20000; // milliseconds between asks for waiting reminders
  var URL_PATTERN = /https?:\/\/[^\s<>"()]+[^\s<>"().,;:!?]/g;

  var log, form, input, sendButton;
  var session = readSession();
  var busy = false;
  var uiLang = (navigator.language || "sv").toLowerCase().indexOf("en") === 0 ? "en" : "sv";

  function readSession() {
    try {
      return window.localStorage.getItem(SESSION_KEY);
    } catch (e) {
      return null;
    }
  }

  function keepSession(value) {
    session = value;
    try {
      window.localStorage.setItem(SESSION_KEY, value);
    } catch (e) {
      // storage blocked (private mode, some embedded frames): keep it for this page only
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function link(url, text) {
    var a = el("a", null, text || url);
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // Text with the web addresses in it as links; everything else as text nodes.
  function linkedText(parent, text) {
    var last = 0;
    String(text).replace(URL_PATTERN, function (url, at) {
      parent.appendChild(document.createTextNode(text.slice(last, at)));
      parent.appendChild(link(url));
      last = at + url.length;
      return url;
    });
    parent.appendChild(document.createTextNode(String(text).slice(last)));
    return parent;
  }

  function words(lang) {
    return UI[lang] || UI.sv;
  }

  // A reply taller than the log is shown from its start; anything else scrolls to the end.
  function add(node) {
    log.appendChild(node);
    if (node.offsetHeight > log.clientHeight) {
      log.scrollTop = node.offsetTop - 8; // .log is position: relative
    } else {
      log.scrollTop = log.scrollHeight;
    }
    return node;
  }

  function speaker(text) {
    return el("span", "visually-hidden", text + ": ");
  }

  function addUser(text) {
    var msg = el("div", "msg user");
    msg.appendChild(speaker(words(uiLang).you));
    msg.appendChild(el("p", "user-text", text));
    add(msg);
  }

  function addNotice(text) {
    var msg = el("div", "msg bot notice");
    msg.appendChild(el("p", null, text));
    add(msg);
  }

  function addWelcome(data) {
    var msg = el("div", "msg bot welcome");
    msg.lang = data.lang;
    msg.appendChild(speaker(words(data.lang).bot));
    msg.appendChild(el("p", null, data.intro));
    msg.appendChild(el("p", "lead", data.examples_lead));
    var list = el("div", "examples");
    data.examples.forEach(function (example) {
      var button = el("button", "example", example);
      button.type = "button";
      button.addEventListener("click", function () {
        ask({ text: example }, example);
      });
      list.appendChild(button);
    });
    msg.appendChild(list);
    add(msg);
    document.getElementById("coordinator").hidden = !data.coordinator;
  }

  function addReply(data) {
    var ui = words(data.lang);
    var msg = el("div", "msg bot status-" + data.status);
    msg.lang = data.lang;
    msg.appendChild(speaker(ui.bot));
    (data.paragraphs || []).forEach(function (text) {
      msg.appendChild(linkedText(el("p"), text));
    });
    (data.courses || []).forEach(function (course) {
      msg.appendChild(courseCard(course, data.labels));
    });
    if (data.question) msg.appendChild(linkedText(el("p", "question"), data.question));
    if (data.options && data.options.length) msg.appendChild(options(data.options, ui));
    (data.attachments || []).forEach(function (file) {
      msg.appendChild(attachment(file, ui));
    });
    if (data.sources && data.sources.length) msg.appendChild(sources(data.sources, data.labels));
    if ("entry_id" in data) msg.appendChild(coordinatorLine(data, ui));
    add(msg);
  }

  function courseCard(course, labels) {
    var card = el("section", "course");
    card.appendChild(el("h2", "course-name", course.name));
    var facts = el("dl", "facts");
    course.facts.forEach(function (fact) {
      facts.appendChild(el("dt", null, fact.label));
      facts.appendChild(el("dd", null, fact.value));
    });
    var urls = course.links.map(safeUrl).filter(Boolean);
    if (urls.length) {
      facts.appendChild(el("dt", null, labels.link));
      var dd = el("dd");
      urls.forEach(function (url, i) {
        if (i) dd.appendChild(document.createTextNode(" "));
        dd.appendChild(link(url));
      });
      facts.appendChild(dd);
    }
    card.appendChild(facts);
    return card;
  }

  function options(list, ui) {
    var group = el("div", "options");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", ui.chooseLead);
    list.forEach(function (option) {
      var button = el("button", "option", option.label);
      button.type = "button";
      button.addEventListener("click", function () {
        ask({ choice: option.value, text: option.label }, option.label);
      });
      group.appendChild(button);
    });
    return group;
  }

  function attachment(file, ui) {
    var bytes = Uint8Array.from(atob(file.data), function (c) {
      return c.charCodeAt(0);
    });
    var url = URL.createObjectURL(new Blob([bytes], { type: file.content_type }));
    var a = el("a", "attachment", ui.download + " " + file.filename);
    a.href = url;
    a.download = file.filename;
    return a;
  }

  function sources(list, labels) {
    var box = el("div", "sources");
    list.forEach(function (source) {
      var line = el("p", "source");
      line.appendChild(document.createTextNode(labels.source + ": "));
      var url = safeUrl(source.url);
      line.appendChild(url ? link(url, source.title) : el("span", null, source.title));
      var dated = source.source_date ? ", " + labels.source_date + ": " + source.source_date : "";
      line.appendChild(document.createTextNode(
        " (" + source.publisher + ")" + dated + ". " + labels.scope + ": " + source.scope + "; " +
        labels.reviewed + " " + source.reviewed + "."
      ));
      box.appendChild(line);
    });
    return box;
  }

  function coordinatorLine(data, ui) {
    var text = data.entry_id
      ? ui.entry + ": " + data.entry_id + " · " + ui.score + " " +
        (typeof data.score === "number" ? data.score.toFixed(2) : "–")
      : ui.noEntry;
    var line = el("p", "coordinator-line", text + " · " + data.status);
    if (data.explain && data.explain.length) {
      var details = el("details", "coordinator-explain");
      details.appendChild(el("summary", null, ui.why));
      details.appendChild(el("pre", null, data.explain.join("\n")));
      var box = el("div", null);
      box.appendChild(line);
      box.appendChild(details);
      return box;
    }
    return line;
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    var indicator = document.getElementById("thinking");
    if (on && !indicator) {
      indicator = el("p", "thinking", words(uiLang).thinking);
      indicator.id = "thinking";
      indicator.setAttribute("aria-hidden", "true");
      log.appendChild(indicator);
    } else if (!on && indicator) {
      indicator.remove();
    }
  }

  function ask(payload, shown) {
    if (busy) return;
    addUser(shown);
    setBusy(true);
    payload.session = session;
    fetch("api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload)
    })
      .then(function (response) {
        return response.json().then(
          function (data) { return { ok: response.ok, data: data }; },
          function () { return { ok: false, data: null }; }
        );
      })
      .then(function (result) {
        setBusy(false);
        if (!result.ok || !result.data) {
          addNotice((result.data && result.data.error) || words(uiLang).failed);
          return;
        }
        if (result.data.session) keepSession(result.data.session);
        addReply(result.data);
      })
      .catch(function () {
        setBusy(false);
        addNotice(words(uiLang).offline);
      })
      .then(function () {
        input.focus();
      });
  }

  // Reminders and other messages the bot sends on its own wait on the server until fetched.
  function fetchInbox() {
    if (document.visibilityState === "hidden") return;
    fetch("api/inbox", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: session })
    })
      .then(function (response) { return response.ok ? response.json() : { replies: [] }; })
      .then(function (data) { (data.replies || []).forEach(addReply); })
      .catch(function () { /* offline: try again at the next poll */ });
  }

  function start() {
    log = document.getElementById("log");
    form = document.getElementById("ask");
    input = document.getElementById("question");
    sendButton = document.getElementById("send");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || busy) return;
      input.value = "";
      ask({ text: text }, text);
      input.focus();
    });
    fetch("api/welcome?lang=" + uiLang)
      .then(function (response) { return response.json(); })
      .then(addWelcome)
      .catch(function () { /* the page still works without the welcome */ });
    fetchInbox();
    window.setInterval(fetchInbox, INBOX_EVERY);
    document.addEventListener("visibilitychange", fetchInbox);
    input.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
