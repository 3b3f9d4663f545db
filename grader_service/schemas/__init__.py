"""Request and response models of the REST API (they also feed the OpenAPI document)."""
