"""An outside attacker of a publication folder, written apart from `publish/`.

It must not share the package's disclosure code (`publish.disclosure.control`, `publish.disclosure.audit`,
`publish.disclosure.protect`): a flaw there would otherwise be repeated here and never found.
`model.py` is a small linear model of counts (figures, relations, interval readings)
with its own bound propagation and HiGHS solves; `folder.py` reads every file of a
publication folder an outsider can download and writes into the model every relation
the contract (PUBLICATION.md sections 1-5) justifies.
"""
