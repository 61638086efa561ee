"""The OpenAPI 3.1 document of the REST API, generated from the descriptor set.

schemas.py: messages and enums as JSON Schemas (what the transcoder prints);
outcomes.py: each call's success statuses and error codes; document.py: paths,
envelopes, security schemes and the seeds' examples; seeds.py: reads those
examples out of the seed documents into seed_examples.json; postman.py (with
postman_quickstart.py): the Postman collection and sandbox environment, from
the document.
"""
