"""adapters.botframework's shortcuts through botbuilder/msrest give what the SDK's own calls give."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botbuilder.core import TurnContext  # type: ignore[import-untyped]
from botbuilder.schema import Activity, ConversationReference  # type: ignore[import-untyped]
from msrest import Serializer

from adapters import teams
from adapters.botframework import (
    SCHEMA_CLASSES,
    CardAttachment,
    ReplyActivity,
    _CardSerializer,
    fast_serialize,
    read_model,
    write_model,
)
from bot.messages import Attachment as File
from bot.messages import Option, Reply, Status

ACTIVITIES: list[dict[str, Any]] = [
    {
        "type": "message",
        "id": "act-1",
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/emea/",
        "text": "Vilken utbildning behöver en ST-handledare?",
        "from": {"id": "29:user", "aadObjectId": "aad-1"},
        "recipient": {"id": "28:bot", "name": "Handledarbot"},
        "conversation": {"id": "a:conv", "conversationType": "personal"},
        "channelData": {"tenant": {"id": "t-1"}},
    },
    {
        "type": "message",
        "id": "act-2",
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/emea/",
        "text": "<at>Handledarbot</at> hej",
        "from": {"id": "29:u", "name": "U", "aadObjectId": "a", "extra": 1},
        "recipient": {"id": "28:bot", "name": "Handledarbot"},
        "conversation": {
            "id": "19:c;messageid=1",
            "tenantId": "t",
            "conversationType": "channel",
            "isGroup": True,
        },
        "entities": [
            {
                "type": "mention",
                "mentioned": {"id": "28:bot", "name": "Handledarbot"},
                "text": "<at>Handledarbot</at>",
            }
        ],
        "value": {"choice": "opt-1"},
        "timestamp": "2026-01-01T10:00:00.123Z",
        "localTimestamp": "2026-01-01T11:00:00+01:00",
        "locale": "en-US",
        "attachments": [{"contentType": "x", "content": {"a": [1, True, None]}}],
        "membersAdded": [{"id": "28:bot"}],
        "unknownField": {"q": 1},
    },
]


def _state(value: Any) -> Any:
    """Every attribute of a model, all the way down, with its type."""
    if isinstance(value, list):
        return [_state(one) for one in value]
    if hasattr(value, "_attribute_map"):
        return (type(value), {k: _state(v) for k, v in vars(value).items()})
    return (type(value), value)


@pytest.mark.parametrize("body", ACTIVITIES)
def test_read_and_write_model_match_msrest(body: dict[str, Any]) -> None:
    ours, theirs = read_model("Activity", body), Activity().deserialize(body)
    assert write_model(ours) == theirs.serialize()
    assert vars(ours).keys() == vars(theirs).keys()
    for name in ("additional_properties", "text", "timestamp", "value", "channel_data"):
        assert getattr(ours, name) == getattr(theirs, name)
    assert _state(ours) == _state(theirs)
    reference = TurnContext.get_conversation_reference(ours)
    assert write_model(reference) == reference.serialize()
    again = read_model("ConversationReference", write_model(reference))
    assert (
        write_model(again) == ConversationReference().deserialize(reference.serialize()).serialize()
    )


def _reply() -> Reply:
    return Reply(
        status=Status.ANSWER,
        lang="sv",
        paragraphs=("Hej", "Två rader"),
        options=(Option(value="o1", label="Ett"),),
        attachments=(File(filename="a.ics", content_type="text/calendar", data=b"BEGIN"),),
    )


@pytest.mark.parametrize(
    ("personal", "origin"), [(True, None), (False, "https://x"), (False, None)]
)
def test_reply_serialized_as_msrest_does(personal: bool, origin: str | None) -> None:
    """The connector's serializer (no walk of the card dicts, no deserialization pass) sends
    the JSON msrest's own Serializer makes of the activity TurnContext sends."""
    incoming = read_model("Activity", ACTIVITIES[1])
    activity = teams.reply_activity(_reply(), personal=personal, origin=origin)
    sent = TurnContext.apply_conversation_reference(
        copy.deepcopy(activity), TurnContext.get_conversation_reference(incoming)
    )
    sent.input_hint, sent.id = "acceptingInput", None
    plain = Serializer(SCHEMA_CLASSES).body(sent, "Activity")
    ours = _CardSerializer(SCHEMA_CLASSES).body(sent, "Activity")
    assert json.dumps(ours, sort_keys=True) == json.dumps(plain, sort_keys=True)
    assert ours["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_reply_with_a_dict_for_a_model_goes_through_msrest() -> None:
    """A dict given where the schema wants a model is still turned into one (msrest's pass)."""
    activity = Activity(type="message", text="x", recipient={"id": "29:u", "name": "U"})
    plain = Serializer(SCHEMA_CLASSES).body(copy.deepcopy(activity), "Activity")
    assert _CardSerializer(SCHEMA_CLASSES).body(activity, "Activity") == plain
    assert plain["recipient"] == {"id": "29:u", "name": "U"}


def test_deep_copy_shares_the_card_and_copies_the_rest() -> None:
    activity = teams.reply_activity(_reply(), personal=True)
    copied = copy.deepcopy(activity)
    for original, twin in zip(activity.attachments, copied.attachments, strict=True):
        assert isinstance(twin, CardAttachment)
        assert twin is not original
        assert twin.content is original.content
        assert twin.content_type == original.content_type and twin.name == original.name
    assert isinstance(copied, ReplyActivity) and copied is not activity
    assert copied.attachments is not activity.attachments
    plain = Serializer(SCHEMA_CLASSES)
    assert plain.body(copied, "Activity") == plain.body(activity, "Activity")
    copied.attachments[0].name = "changed"
    copied.summary = "changed"
    assert activity.attachments[0].name != "changed" and activity.summary != "changed"


def test_fast_serialize_matches_msrest_on_every_schema_model_seen() -> None:
    """Models with enums, dates, lists with None, extra properties, free-form objects."""
    from datetime import UTC, datetime

    from botbuilder.schema import (
        ActivityTypes,
        ChannelAccount,
        ConversationAccount,
        Entity,
        SuggestedActions,
    )

    activity = Activity(
        type=ActivityTypes.message,
        timestamp=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        from_property=ChannelAccount(id="28:b", name="Bot", aad_object_id=None),
        recipient=ChannelAccount(id="29:u", role="user"),
        conversation=ConversationAccount(id="c", is_group=True, tenant_id="t"),
        members_added=[ChannelAccount(id="1"), None],
        entities=[Entity(type="mention")],
        suggested_actions=SuggestedActions(to=["a", "b"]),
        channel_data={"tenant": {"id": "t"}, "n": [1, 2.5, True]},
        value={"choice": "x"},
        text="ä",
    )
    activity.from_property.additional_properties = {"extra": 1, "id": "ignored"}
    serializer = Serializer(SCHEMA_CLASSES)
    for value in (activity, *(read_model("Activity", body) for body in ACTIVITIES)):
        assert fast_serialize(serializer, value) == serializer._serialize(value)


@pytest.mark.parametrize(
    "body",
    [
        {"type": 5, "id": 7, "text": True},
        {"type": "message", "from": "not an object"},
        {"type": "message", "entities": "x"},
        {"type": "message", "membersAdded": [None, {"id": 1}]},
        {"type": "message", "timestamp": "not a date"},
        {"type": "message", "conversation": {"isGroup": "true", "id": None}},
        {"type": "message", "attachments": [{"content": [1, 2]}]},
    ],
)
def test_odd_activities_are_read_as_msrest_reads_them(body: dict[str, Any]) -> None:
    def outcome(read: Any) -> Any:
        try:
            return _state(read())
        except Exception as error:
            return type(error)

    assert outcome(lambda: read_model("Activity", body)) == outcome(
        lambda: Activity().deserialize(body)
    )
