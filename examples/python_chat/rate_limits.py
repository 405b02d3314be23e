"""The chat app's rate limits (docs/protocol.md, "Rate limits"): token buckets per user, per
connection and per IP address, and the command-line options that set them. The C++ host
(examples/chat_server/rate_limits.hpp) implements the same buckets with the same defaults.
"""
import argparse
import ipaddress
import math
import re
import threading
import time

# A number as both hosts take it: digits with at most one point (no sign, exponent or "inf").
_NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)"
_LIMIT = re.compile(r"(%s),(%s)\Z" % (_NUMBER, _NUMBER))


class Limit:
    """A token bucket's size: `burst` requests at once, then one more every `every` seconds.
    None stands for a limit that is off."""

    def __init__(self, burst, every):
        self.burst = burst
        self.every = every

    def __repr__(self):
        return "%g,%g" % (self.burst, self.every)


def parse_limit(text):
    """argparse type of the --limit-* flags: "BURST,SECONDS" (a whole BURST of at least 1,
    SECONDS above 0) or "off" (None)."""
    if text == "off":
        return None
    match = _LIMIT.match(text)
    burst, every = (float(part) for part in match.groups()) if match else (0, 0)
    if burst < 1 or burst != math.floor(burst) or every <= 0:
        raise argparse.ArgumentTypeError(
            "takes BURST,SECONDS (a whole BURST of at least 1, SECONDS above 0) or off, not %r" % text)
    return Limit(burst, every)


_NOT_GIVEN = object()  # a flag's default: "off" (None) is a value given

# (flag, attribute, default, what it limits): the defaults docs/protocol.md explains.
LIMIT_FLAGS = (
    ("--limit-messages", "messages", Limit(20, 0.5), "messages per user"),
    ("--limit-signups", "signups", Limit(3, 600), "new users per connection"),
    ("--limit-signups-per-ip", "signups_per_ip", Limit(30, 60), "new users per IP address, IPv6 per /64"),
    ("--limit-rooms", "rooms", Limit(5, 60), "new public rooms per user"),
    ("--limit-renames", "renames", Limit(5, 60), "name changes per user"),
    ("--limit-typing", "typing", Limit(10, 1), "typing notices per user"),
)


def add_limit_options(parser):
    """The --limit-* flags and --no-limits, as chat_server takes them."""
    group = parser.add_argument_group(
        "rate limits (docs/protocol.md)",
        "each BURST,SECONDS (BURST at once, then one more every SECONDS) or off")
    for flag, attribute, default, what in LIMIT_FLAGS:
        group.add_argument(flag, dest=attribute, type=parse_limit, default=_NOT_GIVEN, metavar="BURST,SECONDS",
                           help="%s (default %r)" % (what, default))
    group.add_argument("--no-limits", action="store_true",
                       help="every limit not set by its own flag off (for load tests)")


def limits_from(args):
    """{attribute: Limit or None} from parsed options: a limit's own flag wins over --no-limits."""
    limits = {}
    for _, attribute, default, _ in LIMIT_FLAGS:
        given = getattr(args, attribute)
        if given is not _NOT_GIVEN:
            limits[attribute] = given
        else:
            limits[attribute] = None if args.no_limits else default
    return limits


class _Bucket:
    """Starts full; a request takes a token; tokens come back one every `every` seconds, up to
    `burst`."""

    __slots__ = ("tokens", "updated")

    def __init__(self, limit, now):
        self.tokens = limit.burst
        self.updated = now

    def wait(self, limit, now):
        """Whole seconds (at least 1) until a token is back, or 0 when one is there now."""
        self.tokens = min(limit.burst, self.tokens + (now - self.updated) / limit.every)
        self.updated = now
        if self.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - self.tokens) * limit.every))


class Buckets:
    """The buckets of one limit, one per key (a user id, a connection, an address). A full bucket
    is the same as none, so the table forgets full ones whenever it has doubled since it last did.
    Handlers run on several threads: one lock guards every table of a RateLimits."""

    def __init__(self, limit, lock):
        self.limit = limit
        self._lock = lock
        self._buckets = {}
        self._kept = 0

    def wait(self, key, now):
        """0 if `key` may go ahead now, else the whole seconds to wait (the caller holds the lock)."""
        bucket = self._buckets.get(key)
        return 0 if self.limit is None or bucket is None else bucket.wait(self.limit, now)

    def take(self, key, now):
        """Takes a token of `key` after wait() said 0 (the caller holds the lock)."""
        if self.limit is None:
            return
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.limit, now)
        bucket.wait(self.limit, now)  # brings it up to `now` before the token goes
        bucket.tokens -= 1

    def try_take(self, key):
        """Takes a token of `key` if it has one: returns 0 then, else the whole seconds to wait."""
        with self._lock:
            now = time.monotonic()
            seconds = self.wait(key, now)
            if seconds == 0:
                self.take(key, now)
            return seconds

    def forget(self, key):
        """Drops the bucket of a key that is gone (a closed connection)."""
        with self._lock:
            self._buckets.pop(key, None)

    def _forget_full(self, now):
        if len(self._buckets) < max(1024, 2 * self._kept):
            return
        for key, bucket in list(self._buckets.items()):
            bucket.wait(self.limit, now)  # refills it up to `now`
            if bucket.tokens >= self.limit.burst:
                del self._buckets[key]
        self._kept = len(self._buckets)


class RateLimits:
    """Every bucket table of the app, from limits_from()'s dict."""

    def __init__(self, limits):
        self.lock = threading.Lock()
        for attribute, limit in limits.items():
            setattr(self, attribute, Buckets(limit, self.lock))

    def try_signup(self, sid, address):
        """A new user takes a token of its connection's and of its address's, both or neither:
        returns (0, None) then, else (seconds, which) with which "connection" or "address"."""
        key = address_key(address)
        with self.lock:
            now = time.monotonic()
            here = self.signups.wait(sid, now)
            there = self.signups_per_ip.wait(key, now)
            if here >= there and here > 0:
                return here, "connection"
            if there > 0:
                return there, "address"
            self.signups.take(sid, now)
            self.signups_per_ip.take(key, now)
            return 0, None


def address_key(address):
    """The key of the per-address limit: the address itself, but for IPv6 its /64 network, which
    a single subscriber usually holds whole (one address each would be no limit at all)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network((parsed, 64), strict=False))
    return address


def wait_phrase(seconds):
    """ "12 seconds", "10 minutes", "2 hours": a wait as a person reads it, rounded up."""
    def say(count, unit):
        return "%d %s%s" % (count, unit, "" if count == 1 else "s")

    if seconds < 120:
        return say(seconds, "second")
    if seconds < 7200:
        return say((seconds + 59) // 60, "minute")
    return say((seconds + 3599) // 3600, "hour")
