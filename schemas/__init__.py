"""marshmallow schemas: query arguments, response envelopes, errors.

They validate what comes in and document what goes out (openapi.yaml is generated
from them); responses themselves are encoded with orjson, not dumped field by field.
"""
