"""Security core: API keys, IAM-style policies, the request context, and the audit trail."""

from shipyard.schemas.security import (
    ApiKeyInfo,
    AuditEventInfo,
    MatchedStatement,
    PolicyInfo,
    PrincipalInfo,
    PrincipalLimits,
    Simulation,
)
from shipyard.security._audit import add_event, record_event, record_events
from shipyard.security._audit_chain import (
    AuditSealer,
    check_audit_log,
    export_audit_log,
    public_key_pem,
    seal_audit_log,
    verify_audit_log,
)
from shipyard.security._audit_log import list_audit_events
from shipyard.security._certificate_auth import authenticate_certificate
from shipyard.security._context import RequestContext, new_request_id
from shipyard.security._iam import (
    ADMIN,
    attach_policy,
    authenticate,
    bootstrap,
    context_for,
    create_api_key,
    create_principal,
    detach_policy,
    issue_admin_key_if_none,
    list_api_keys,
    list_policies,
    list_principals,
    put_policy,
    revoke_api_key,
)
from shipyard.security._key_cache import CachedKeyAuthorizer
from shipyard.security._key_use import KeyUse
from shipyard.security._limits import RequestLimiter, get_principal_limits, put_principal_limits
from shipyard.security._operation import OperationInfo, operation
from shipyard.security._policy import Decision, PolicyDocument, evaluate, evaluate_names
from shipyard.security._resources import Access, ResourceName, latest_versioned
from shipyard.security._sessions import (
    IssuedSession,
    SessionState,
    check_csrf,
    close_session,
    open_session,
    session_state,
)
from shipyard.security._simulate import simulate_policy

__all__ = [
    "ADMIN",
    "Access",
    "ApiKeyInfo",
    "AuditEventInfo",
    "AuditSealer",
    "CachedKeyAuthorizer",
    "Decision",
    "IssuedSession",
    "KeyUse",
    "MatchedStatement",
    "OperationInfo",
    "PolicyDocument",
    "PolicyInfo",
    "PrincipalInfo",
    "PrincipalLimits",
    "RequestContext",
    "RequestLimiter",
    "ResourceName",
    "SessionState",
    "Simulation",
    "add_event",
    "attach_policy",
    "authenticate",
    "authenticate_certificate",
    "bootstrap",
    "check_audit_log",
    "check_csrf",
    "close_session",
    "context_for",
    "create_api_key",
    "create_principal",
    "detach_policy",
    "evaluate",
    "evaluate_names",
    "export_audit_log",
    "get_principal_limits",
    "issue_admin_key_if_none",
    "latest_versioned",
    "list_api_keys",
    "list_audit_events",
    "list_policies",
    "list_principals",
    "new_request_id",
    "open_session",
    "operation",
    "public_key_pem",
    "put_policy",
    "put_principal_limits",
    "record_event",
    "record_events",
    "revoke_api_key",
    "seal_audit_log",
    "session_state",
    "simulate_policy",
    "verify_audit_log",
]
