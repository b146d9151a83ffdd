"""``HyperswitchClient``: one object per Hyperswitch merchant key, one service per resource."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter

from ._requestor import Requestor
from .audit import AuditHook
from .breaker import CircuitBreaker
from .customers import CustomersService
from .disputes import DisputesService
from .mandates import MandatesService
from .payment_links import PaymentLinksService
from .pacing import Pacer
from .payment_methods import PaymentMethodsService
from .payments import PaymentsService
from .payouts import PayoutsService
from .profiles import ProfilesService
from .refunds import RefundsService
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DEADLINE",
    "DEFAULT_READ_TIMEOUT",
    "HyperswitchClient",
]

DEFAULT_CONNECT_TIMEOUT = 3.05
DEFAULT_READ_TIMEOUT = 10.0
# Kill Bill gives a plugin call 30 s; the Java shim, the sidecar's own work and a margin share it.
DEFAULT_DEADLINE = 15.0
DEFAULT_MAX_RETRIES = 3


class HyperswitchClient:
    """Typed client of the Hyperswitch v1 API.

    Every call has a connect timeout, a read timeout and an overall ``deadline`` (seconds, retries
    and waits included). ``audit_hook`` receives an ``AuditRecord`` after every HTTP attempt. A
    ``session`` passed in must not retry by itself (urllib3 retries could resend a capture); by
    default the client builds one with retries off. ``retry_policy`` replaces the default policy
    (and its ``max_retries``); ``clock`` and ``sleep`` are injectable for tests.

    ``pacer`` hands out request slots before every attempt (see ``pacing``), ``breaker`` stops sending
    to a router that keeps failing (see ``breaker``); both are shared with other clients by passing
    the same object, and both refuse before sending, so a refused payment call is "not processed".
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        profile_id: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_retries: int = DEFAULT_MAX_RETRIES,
        audit_hook: AuditHook | None = None,
        session: requests.Session | None = None,
        retry_policy: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._owns_session = session is None
        self._session = session if session is not None else _new_session()
        self.profile_id = profile_id
        requestor = Requestor(
            base_url,
            api_key,
            profile_id=profile_id,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
            retry_policy=retry_policy or RetryPolicy(max_retries=max_retries),
            audit_hook=audit_hook,
            session=self._session,
            pacer=pacer,
            breaker=breaker,
            clock=clock,
            sleep=sleep,
        )
        self.payments = PaymentsService(requestor)
        self.refunds = RefundsService(requestor)
        self.customers = CustomersService(requestor)
        self.payment_methods = PaymentMethodsService(requestor)
        self.mandates = MandatesService(requestor)
        self.payment_links = PaymentLinksService(requestor)
        self.profiles = ProfilesService(requestor, profile_id)
        self.disputes = DisputesService(requestor)
        self.payouts = PayoutsService(requestor)

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> HyperswitchClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
