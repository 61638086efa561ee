from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import auth_pb2 as _auth_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TokenRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class RefreshRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class RevokeRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class AuthorizeRequest(_message.Message):
    __slots__ = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method")
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CODE_CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    CODE_CHALLENGE_METHOD_FIELD_NUMBER: _ClassVar[int]
    response_type: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str
    code_challenge_method: str
    def __init__(self, response_type: _Optional[str] = ..., client_id: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., scope: _Optional[str] = ..., state: _Optional[str] = ..., code_challenge: _Optional[str] = ..., code_challenge_method: _Optional[str] = ...) -> None: ...

class SubmitAuthorizationRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class GetJwksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAuthorizationServerMetadataRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListClientsRequest(_message.Message):
    __slots__ = ("status", "search", "page", "limit", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: _auth_pb2.ClientStatusEnum.ClientStatus
    search: str
    page: int
    limit: int
    page_token: str
    def __init__(self, status: _Optional[_Union[_auth_pb2.ClientStatusEnum.ClientStatus, str]] = ..., search: _Optional[str] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListClientsResponse(_message.Message):
    __slots__ = ("clients", "pagination")
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[_auth_pb2.ApiClient]
    pagination: _common_pb2.Pagination
    def __init__(self, clients: _Optional[_Iterable[_Union[_auth_pb2.ApiClient, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class CreateClientRequest(_message.Message):
    __slots__ = ("name", "description", "client_type", "scopes", "grant_types", "redirect_uris", "rate_limits", "ip_allowlist", "require_request_signing")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPES_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    IP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_REQUEST_SIGNING_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    client_type: _auth_pb2.ClientTypeEnum.ClientType
    scopes: _containers.RepeatedScalarFieldContainer[str]
    grant_types: _containers.RepeatedScalarFieldContainer[_auth_pb2.GrantTypeEnum.GrantType]
    redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    rate_limits: _auth_pb2.RateLimits
    ip_allowlist: _containers.RepeatedScalarFieldContainer[str]
    require_request_signing: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., client_type: _Optional[_Union[_auth_pb2.ClientTypeEnum.ClientType, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., grant_types: _Optional[_Iterable[_Union[_auth_pb2.GrantTypeEnum.GrantType, str]]] = ..., redirect_uris: _Optional[_Iterable[str]] = ..., rate_limits: _Optional[_Union[_auth_pb2.RateLimits, _Mapping]] = ..., ip_allowlist: _Optional[_Iterable[str]] = ..., require_request_signing: _Optional[bool] = ...) -> None: ...

class CreateClientResponse(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: _auth_pb2.ApiClient
    def __init__(self, client: _Optional[_Union[_auth_pb2.ApiClient, _Mapping]] = ...) -> None: ...

class GetClientRequest(_message.Message):
    __slots__ = ("client_id",)
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    def __init__(self, client_id: _Optional[str] = ...) -> None: ...

class GetClientResponse(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: _auth_pb2.ApiClient
    def __init__(self, client: _Optional[_Union[_auth_pb2.ApiClient, _Mapping]] = ...) -> None: ...

class UpdateClientRequest(_message.Message):
    __slots__ = ("client_id", "name", "description", "scopes", "grant_types", "redirect_uris", "rate_limits", "ip_allowlist", "clear_ip_allowlist", "require_request_signing", "status")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPES_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    IP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
    CLEAR_IP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_REQUEST_SIGNING_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    name: str
    description: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    grant_types: _containers.RepeatedScalarFieldContainer[_auth_pb2.GrantTypeEnum.GrantType]
    redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    rate_limits: _auth_pb2.RateLimits
    ip_allowlist: _containers.RepeatedScalarFieldContainer[str]
    clear_ip_allowlist: bool
    require_request_signing: bool
    status: _auth_pb2.ClientStatusEnum.ClientStatus
    def __init__(self, client_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., grant_types: _Optional[_Iterable[_Union[_auth_pb2.GrantTypeEnum.GrantType, str]]] = ..., redirect_uris: _Optional[_Iterable[str]] = ..., rate_limits: _Optional[_Union[_auth_pb2.RateLimits, _Mapping]] = ..., ip_allowlist: _Optional[_Iterable[str]] = ..., clear_ip_allowlist: _Optional[bool] = ..., require_request_signing: _Optional[bool] = ..., status: _Optional[_Union[_auth_pb2.ClientStatusEnum.ClientStatus, str]] = ...) -> None: ...

class UpdateClientResponse(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: _auth_pb2.ApiClient
    def __init__(self, client: _Optional[_Union[_auth_pb2.ApiClient, _Mapping]] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("client_id", "slot", "description")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    slot: _auth_pb2.ApiKeySlotEnum.ApiKeySlot
    description: str
    def __init__(self, client_id: _Optional[str] = ..., slot: _Optional[_Union[_auth_pb2.ApiKeySlotEnum.ApiKeySlot, str]] = ..., description: _Optional[str] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _auth_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_auth_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("client_id", "include_revoked", "page", "limit", "page_token")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    include_revoked: bool
    page: int
    limit: int
    page_token: str
    def __init__(self, client_id: _Optional[str] = ..., include_revoked: _Optional[bool] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("api_keys", "pagination")
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[_auth_pb2.ApiKey]
    pagination: _common_pb2.Pagination
    def __init__(self, api_keys: _Optional[_Iterable[_Union[_auth_pb2.ApiKey, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class RotateApiKeysRequest(_message.Message):
    __slots__ = ("client_id", "description")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    description: str
    def __init__(self, client_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class RotateApiKeysResponse(_message.Message):
    __slots__ = ("primary", "secondary", "revoked")
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    SECONDARY_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    primary: _auth_pb2.ApiKey
    secondary: _auth_pb2.ApiKey
    revoked: _auth_pb2.ApiKey
    def __init__(self, primary: _Optional[_Union[_auth_pb2.ApiKey, _Mapping]] = ..., secondary: _Optional[_Union[_auth_pb2.ApiKey, _Mapping]] = ..., revoked: _Optional[_Union[_auth_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("client_id", "api_key_id")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    API_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    api_key_id: str
    def __init__(self, client_id: _Optional[str] = ..., api_key_id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _auth_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_auth_pb2.ApiKey, _Mapping]] = ...) -> None: ...
