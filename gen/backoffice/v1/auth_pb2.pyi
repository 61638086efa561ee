import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApiClient(_message.Message):
    __slots__ = ("client_id", "name", "description", "client_type", "scopes", "grant_types", "redirect_uris", "rate_limits", "ip_allowlist", "require_request_signing", "status", "client_secret", "created_at", "updated_at", "last_used_at")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPES_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    IP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_REQUEST_SIGNING_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    name: str
    description: str
    client_type: ClientTypeEnum.ClientType
    scopes: _containers.RepeatedScalarFieldContainer[str]
    grant_types: _containers.RepeatedScalarFieldContainer[GrantTypeEnum.GrantType]
    redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    rate_limits: RateLimits
    ip_allowlist: _containers.RepeatedScalarFieldContainer[str]
    require_request_signing: bool
    status: ClientStatusEnum.ClientStatus
    client_secret: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    def __init__(self, client_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., client_type: _Optional[_Union[ClientTypeEnum.ClientType, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., grant_types: _Optional[_Iterable[_Union[GrantTypeEnum.GrantType, str]]] = ..., redirect_uris: _Optional[_Iterable[str]] = ..., rate_limits: _Optional[_Union[RateLimits, _Mapping]] = ..., ip_allowlist: _Optional[_Iterable[str]] = ..., require_request_signing: _Optional[bool] = ..., status: _Optional[_Union[ClientStatusEnum.ClientStatus, str]] = ..., client_secret: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RateLimits(_message.Message):
    __slots__ = ("read_per_hour", "write_per_hour", "account_create_per_minute", "password_reset_per_minute")
    READ_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    WRITE_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_CREATE_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_RESET_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    read_per_hour: int
    write_per_hour: int
    account_create_per_minute: int
    password_reset_per_minute: int
    def __init__(self, read_per_hour: _Optional[int] = ..., write_per_hour: _Optional[int] = ..., account_create_per_minute: _Optional[int] = ..., password_reset_per_minute: _Optional[int] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("id", "client_id", "slot", "prefix", "last4", "key", "status", "description", "created_at", "last_used_at", "revoked_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LAST4_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    client_id: str
    slot: ApiKeySlotEnum.ApiKeySlot
    prefix: str
    last4: str
    key: str
    status: ApiKeyStatusEnum.ApiKeyStatus
    description: str
    created_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., client_id: _Optional[str] = ..., slot: _Optional[_Union[ApiKeySlotEnum.ApiKeySlot, str]] = ..., prefix: _Optional[str] = ..., last4: _Optional[str] = ..., key: _Optional[str] = ..., status: _Optional[_Union[ApiKeyStatusEnum.ApiKeyStatus, str]] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenRequestForm(_message.Message):
    __slots__ = ("grant_type", "client_id", "client_secret", "scope", "code", "redirect_uri", "code_verifier", "refresh_token")
    GRANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    CODE_VERIFIER_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grant_type: str
    client_id: str
    client_secret: str
    scope: str
    code: str
    redirect_uri: str
    code_verifier: str
    refresh_token: str
    def __init__(self, grant_type: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., scope: _Optional[str] = ..., code: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., code_verifier: _Optional[str] = ..., refresh_token: _Optional[str] = ...) -> None: ...

class TokenResponseBody(_message.Message):
    __slots__ = ("access_token", "token_type", "expires_in", "refresh_token", "scope")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str
    def __init__(self, access_token: _Optional[str] = ..., token_type: _Optional[str] = ..., expires_in: _Optional[int] = ..., refresh_token: _Optional[str] = ..., scope: _Optional[str] = ...) -> None: ...

class OAuthErrorBody(_message.Message):
    __slots__ = ("error", "error_description")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    error: str
    error_description: str
    def __init__(self, error: _Optional[str] = ..., error_description: _Optional[str] = ...) -> None: ...

class RevocationRequestForm(_message.Message):
    __slots__ = ("token", "token_type_hint", "client_id", "client_secret")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_HINT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    token: str
    token_type_hint: str
    client_id: str
    client_secret: str
    def __init__(self, token: _Optional[str] = ..., token_type_hint: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ...) -> None: ...

class AuthorizationForm(_message.Message):
    __slots__ = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "csrf_token", "email", "password", "decision")
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CODE_CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    CODE_CHALLENGE_METHOD_FIELD_NUMBER: _ClassVar[int]
    CSRF_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    response_type: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str
    code_challenge_method: str
    csrf_token: str
    email: str
    password: str
    decision: str
    def __init__(self, response_type: _Optional[str] = ..., client_id: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., scope: _Optional[str] = ..., state: _Optional[str] = ..., code_challenge: _Optional[str] = ..., code_challenge_method: _Optional[str] = ..., csrf_token: _Optional[str] = ..., email: _Optional[str] = ..., password: _Optional[str] = ..., decision: _Optional[str] = ...) -> None: ...

class AuthorizationServerMetadata(_message.Message):
    __slots__ = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint", "scopes_supported", "response_types_supported", "grant_types_supported", "token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported", "code_challenge_methods_supported")
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    JWKS_URI_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_ENDPOINT_AUTH_METHODS_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    CODE_CHALLENGE_METHODS_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    scopes_supported: _containers.RepeatedScalarFieldContainer[str]
    response_types_supported: _containers.RepeatedScalarFieldContainer[str]
    grant_types_supported: _containers.RepeatedScalarFieldContainer[str]
    token_endpoint_auth_methods_supported: _containers.RepeatedScalarFieldContainer[str]
    revocation_endpoint_auth_methods_supported: _containers.RepeatedScalarFieldContainer[str]
    code_challenge_methods_supported: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, issuer: _Optional[str] = ..., authorization_endpoint: _Optional[str] = ..., token_endpoint: _Optional[str] = ..., jwks_uri: _Optional[str] = ..., revocation_endpoint: _Optional[str] = ..., scopes_supported: _Optional[_Iterable[str]] = ..., response_types_supported: _Optional[_Iterable[str]] = ..., grant_types_supported: _Optional[_Iterable[str]] = ..., token_endpoint_auth_methods_supported: _Optional[_Iterable[str]] = ..., revocation_endpoint_auth_methods_supported: _Optional[_Iterable[str]] = ..., code_challenge_methods_supported: _Optional[_Iterable[str]] = ...) -> None: ...

class JsonWebKeySet(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[JsonWebKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[JsonWebKey, _Mapping]]] = ...) -> None: ...

class JsonWebKey(_message.Message):
    __slots__ = ("kty", "use", "kid", "alg", "n", "e", "crv", "x", "y")
    KTY_FIELD_NUMBER: _ClassVar[int]
    USE_FIELD_NUMBER: _ClassVar[int]
    KID_FIELD_NUMBER: _ClassVar[int]
    ALG_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    E_FIELD_NUMBER: _ClassVar[int]
    CRV_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    kty: str
    use: str
    kid: str
    alg: str
    n: str
    e: str
    crv: str
    x: str
    y: str
    def __init__(self, kty: _Optional[str] = ..., use: _Optional[str] = ..., kid: _Optional[str] = ..., alg: _Optional[str] = ..., n: _Optional[str] = ..., e: _Optional[str] = ..., crv: _Optional[str] = ..., x: _Optional[str] = ..., y: _Optional[str] = ...) -> None: ...

class ClientTypeEnum(_message.Message):
    __slots__ = ()
    class ClientType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CLIENT_TYPE_UNSPECIFIED: _ClassVar[ClientTypeEnum.ClientType]
        CONFIDENTIAL: _ClassVar[ClientTypeEnum.ClientType]
        PUBLIC: _ClassVar[ClientTypeEnum.ClientType]
    CLIENT_TYPE_UNSPECIFIED: ClientTypeEnum.ClientType
    CONFIDENTIAL: ClientTypeEnum.ClientType
    PUBLIC: ClientTypeEnum.ClientType
    def __init__(self) -> None: ...

class GrantTypeEnum(_message.Message):
    __slots__ = ()
    class GrantType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        GRANT_TYPE_UNSPECIFIED: _ClassVar[GrantTypeEnum.GrantType]
        AUTHORIZATION_CODE: _ClassVar[GrantTypeEnum.GrantType]
        CLIENT_CREDENTIALS: _ClassVar[GrantTypeEnum.GrantType]
        REFRESH_TOKEN: _ClassVar[GrantTypeEnum.GrantType]
    GRANT_TYPE_UNSPECIFIED: GrantTypeEnum.GrantType
    AUTHORIZATION_CODE: GrantTypeEnum.GrantType
    CLIENT_CREDENTIALS: GrantTypeEnum.GrantType
    REFRESH_TOKEN: GrantTypeEnum.GrantType
    def __init__(self) -> None: ...

class ClientStatusEnum(_message.Message):
    __slots__ = ()
    class ClientStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CLIENT_STATUS_UNSPECIFIED: _ClassVar[ClientStatusEnum.ClientStatus]
        ACTIVE: _ClassVar[ClientStatusEnum.ClientStatus]
        DISABLED: _ClassVar[ClientStatusEnum.ClientStatus]
    CLIENT_STATUS_UNSPECIFIED: ClientStatusEnum.ClientStatus
    ACTIVE: ClientStatusEnum.ClientStatus
    DISABLED: ClientStatusEnum.ClientStatus
    def __init__(self) -> None: ...

class ApiKeySlotEnum(_message.Message):
    __slots__ = ()
    class ApiKeySlot(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        API_KEY_SLOT_UNSPECIFIED: _ClassVar[ApiKeySlotEnum.ApiKeySlot]
        PRIMARY: _ClassVar[ApiKeySlotEnum.ApiKeySlot]
        SECONDARY: _ClassVar[ApiKeySlotEnum.ApiKeySlot]
    API_KEY_SLOT_UNSPECIFIED: ApiKeySlotEnum.ApiKeySlot
    PRIMARY: ApiKeySlotEnum.ApiKeySlot
    SECONDARY: ApiKeySlotEnum.ApiKeySlot
    def __init__(self) -> None: ...

class ApiKeyStatusEnum(_message.Message):
    __slots__ = ()
    class ApiKeyStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        API_KEY_STATUS_UNSPECIFIED: _ClassVar[ApiKeyStatusEnum.ApiKeyStatus]
        ACTIVE: _ClassVar[ApiKeyStatusEnum.ApiKeyStatus]
        REVOKED: _ClassVar[ApiKeyStatusEnum.ApiKeyStatus]
    API_KEY_STATUS_UNSPECIFIED: ApiKeyStatusEnum.ApiKeyStatus
    ACTIVE: ApiKeyStatusEnum.ApiKeyStatus
    REVOKED: ApiKeyStatusEnum.ApiKeyStatus
    def __init__(self) -> None: ...
