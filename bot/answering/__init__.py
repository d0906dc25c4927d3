"""The answering engine: a question in, one `Reply` out (an answer, a question back, or an honest
"the sources do not say"). Read the modules in pipeline order:

1. `reading`   — what the question says: words, concepts (entities, facets), regions, negation
2. `retrieval` — ranked retrieval (BM25) over the entries' own text and example questions
3. `engine`    — candidates, the decision rules in order, and the trace `explain` prints
4. `compose`   — the `Reply` for an entry, several entries, a question back, or a no-match

Glossary (the field's terms, and the project's own):
- *entry*: one answerable item of the knowledge base (a role, a course, a guidance text, a group
  of toolbox topics); *clarification*: a question back with options.
- *concept*: a named meaning with its terms (vocabulary.yaml); an *entity* concept names a
  subject (a role, a course, a level of education); a *facet* (slot) is what is asked about it
  (length, credits, how to apply, price ...).
- *match key*: concepts that must all be present for an entry to be a candidate.
- *confidence*: the candidate's score (weights of its key, plus mentions), compared with
  `min_score` and with the runner-up (`tie_margin`).
- *fallback*: the honest no-match reply, naming what is not known and whom to ask.
"""
