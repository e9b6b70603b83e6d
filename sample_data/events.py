"""Segment Spec messages: device clocks, batching, late delivery and duplicate deliveries.

Times: the hit's true time t (UTC). The device clock is off by the device's skew, and the
device writes `originalTimestamp` and `sentAt` in its local UTC offset. The collector
stamps `receivedAt` (UTC, `Z`). `timestamp` is what Segment computes:
receivedAt - (sentAt - originalTimestamp), in UTC. The delivery folder is the UTC date of
`receivedAt`.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict

from .devices import ANDROID_LIBRARY, APP_NAME, APP_NAMESPACE, IOS_LIBRARY, WEB_LIBRARY, Device
from .people import Person
from .sessions import Hit, Session
from .timeutil import MS_DAY, MS_HOUR, MS_MIN, iso_local_ms, iso_utc_ms, utc_offset_min
from .truth import Registry

SERVER_LIBRARY = {"name": "analytics-python", "version": "2.3.3"}
DUPLICATE_RATE = 0.015

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _static_context(person: Person | None, dev: Device) -> dict:
    if dev.ctx is not None:
        return dev.ctx
    tz = person.tz if person else "UTC"
    locale = person.web_locale if person else "en-US"
    ctx: dict = {"ip": dev.ip, "userAgent": dev.user_agent, "locale": locale, "timezone": tz}
    if dev.kind == "web":
        ctx["library"] = WEB_LIBRARY
        ctx["os"] = {"name": dev.os_name, "version": dev.os_version}
    else:
        version, build = dev.app or ("", "")
        ctx["library"] = IOS_LIBRARY if dev.kind == "ios" else ANDROID_LIBRARY
        ctx["os"] = {"name": dev.os_name, "version": dev.os_version}
        ctx["app"] = {
            "name": APP_NAME,
            "version": version,
            "build": build,
            "namespace": APP_NAMESPACE,
        }
        ctx["device"] = {
            "id": dev.device_id,
            "manufacturer": dev.manufacturer,
            "model": dev.model,
            "type": dev.kind,
        }
    dev.ctx = ctx
    return ctx


class EventStream:
    """Turns hits into JSON lines and holds them until their delivery (receivedAt) day."""

    def __init__(self, window_start: int, days: int, registry: Registry) -> None:
        self.window_start = window_start
        self.days = days
        self.registry = registry
        self.pending: dict[int, list[tuple[int, int, bool, str]]] = defaultdict(list)
        self.seq = 0
        self.dropped = 0  # received after the last delivery day
        self.forced_late = False  # one app batch is always 4+ days late (when the window allows)
        self._anon = registry.table("anonymous_id")
        self._user = registry.table("user_id")
        self._device = registry.table("device_id")
        # junk and shared values: every person whose delivered calls carry them
        self._w_anon = registry.watched("anonymous_id")
        self._w_user = registry.watched("user_id")
        self._w_device = registry.watched("device_id")

    def _deliver(self, received: int, mobile: bool, msg: dict) -> bool:
        day = (received - self.window_start) // MS_DAY
        if day >= self.days:
            self.dropped += 1
            return False
        self.seq += 1
        self.pending[day].append((received, self.seq, mobile, _dumps(msg)))
        return True

    def _emit(
        self,
        msg: dict,
        received: int,
        mobile: bool,
        rng: random.Random,
        pid: str,
        sent_dev: int,
        off_sent: int,
        device_id: str | None = None,
    ) -> None:
        if not self._deliver(received, mobile, msg):
            return
        anon, user = msg.get("anonymousId"), msg.get("userId")
        if anon:
            watched = self._w_anon.get(anon)
            if watched is not None:
                watched[1].add(pid)
            elif anon not in self._anon:
                self._anon[anon] = pid
        if user:
            watched = self._w_user.get(user)
            if watched is not None:
                watched[1].add(pid)
            elif user not in self._user:
                self._user[user] = pid
        if device_id:
            watched = self._w_device.get(device_id)
            if watched is not None:
                watched[1].add(pid)
        if rng.random() < DUPLICATE_RATE:  # a retry delivers the same message again
            if rng.random() < 0.75:
                delay = rng.randint(1_000, 10 * MS_MIN)
            else:
                delay = rng.randint(2 * MS_HOUR, 30 * MS_HOUR)
            dup = dict(msg)
            dup["sentAt"] = iso_local_ms(sent_dev + delay, off_sent)
            dup["receivedAt"] = iso_utc_ms(received + delay)
            self._deliver(received + delay, mobile, dup)

    def add_sessions(self, sessions: list[Session], rng: random.Random) -> None:
        for s in sessions:
            self._add_session(s, rng)

    def _add_session(self, s: Session, rng: random.Random) -> None:
        hits = s.hits
        if not hits:
            return
        dev = s.device
        person = s.person
        mobile = dev.is_app
        tz = person.tz if person else "UTC"
        skew = dev.skew_ms
        base = _static_context(person, dev)
        device_id = dev.device_id if mobile else None
        if mobile and s.device_id_override:  # the SDK reported another id this session
            device_id = s.device_id_override
            base = dict(base)
            base["device"] = dict(base["device"], id=device_id)
        register_device = bool(device_id) and device_id not in self._w_device
        end_t = hits[-1].t
        # when each hit leaves the device (true time)
        late_from, delay = len(hits), 0
        if mobile:
            flush = end_t + rng.randint(1_000, 30_000)
            room = self.window_start + self.days * MS_DAY - flush  # time left in the window
            if not self.forced_late and room > 5 * MS_DAY:
                self.forced_late = True
                flush += rng.randint(4 * MS_DAY, min(20 * MS_DAY, room - MS_DAY))
            elif rng.random() < 0.12:  # offline: the batch waits for connectivity
                r = rng.random()
                if r < 0.70:
                    flush += rng.randint(10 * MS_MIN, 12 * MS_HOUR)
                elif r < 0.92:
                    flush += rng.randint(12 * MS_HOUR, 3 * MS_DAY)
                else:
                    flush += rng.randint(4 * MS_DAY, 20 * MS_DAY)
        else:
            flush = 0
            if not s.bot and rng.random() < 0.004:  # queued in localStorage, sent on a later visit
                late_from = rng.randrange(len(hits))
                if rng.random() < 0.95:
                    delay = rng.randint(MS_HOUR, 3 * MS_DAY)
                else:
                    delay = rng.randint(4 * MS_DAY, 12 * MS_DAY)
        for i, h in enumerate(hits):
            if mobile:
                sent = max(flush, h.t + 50)
            else:
                sent = h.t + rng.randint(15, 600) + (delay if i >= late_from else 0)
            received = sent + rng.randint(30, 1_500)
            orig_dev = h.t + skew
            sent_dev = sent + skew
            off_orig = utc_offset_min(tz, orig_dev)
            off_sent = utc_offset_min(tz, sent_dev)
            msg = self._message(h, s, base, mobile, rng)
            msg["timestamp"] = iso_utc_ms(received - (sent - h.t))
            msg["originalTimestamp"] = iso_local_ms(orig_dev, off_orig)
            msg["sentAt"] = iso_local_ms(sent_dev, off_sent)
            msg["receivedAt"] = iso_utc_ms(received)
            msg["channel"] = "mobile" if mobile else "client"
            if register_device and device_id not in self._device:
                self._device[device_id] = s.pid
            self._emit(msg, received, mobile, rng, s.pid, sent_dev, off_sent, device_id)

    def _message(self, h: Hit, s: Session, base: dict, mobile: bool, rng: random.Random) -> dict:
        msg: dict = {
            "messageId": f"{rng.getrandbits(128):032x}"
            if mobile
            else f"ajs-next-{rng.getrandbits(128):032x}",
            "type": h.type,
            "anonymousId": h.anon,
        }
        if h.user or not mobile:
            msg["userId"] = h.user
        t = h.type
        if t == "track":
            msg["event"] = h.label
            msg["properties"] = h.props
        elif t in ("page", "screen"):
            msg["name"] = h.label
            msg["properties"] = h.props
        elif t == "identify":
            msg["traits"] = h.extra["traits"] if h.extra else {}
        elif t == "alias":
            msg["previousId"] = h.extra["previousId"] if h.extra else None
        elif t == "group":
            assert h.extra is not None
            msg["groupId"] = h.extra["groupId"]
            msg["traits"] = h.extra["traits"]
        ctx = dict(base)
        if h.page is not None:
            url, path, title, referrer, search = h.page
            ctx["page"] = {
                "path": path,
                "referrer": referrer,
                "search": search,
                "title": title,
                "url": url,
            }
            if s.campaign and search.startswith("?utm_"):
                ctx["campaign"] = s.campaign
        msg["context"] = ctx
        if rng.random() < 0.3:
            msg["integrations"] = {"All": True}
        return msg

    def add_server_hits(self, hits: list[tuple[Person, Hit]], rng: random.Random) -> None:
        """Server-side calls (refunds, cancellations, trial ends): UTC clocks, userId only."""
        for person, h in hits:
            sent = h.t + rng.randint(10, 2_000)
            received = sent + rng.randint(5, 200)
            msg: dict = {
                "messageId": f"srv-{rng.getrandbits(96):024x}",
                "type": "track",
                "userId": h.user,
                "event": h.label,
                "properties": h.props,
                "context": {"library": SERVER_LIBRARY},
                "timestamp": iso_utc_ms(received - (sent - h.t)),
                "originalTimestamp": iso_local_ms(h.t, 0),
                "sentAt": iso_local_ms(sent, 0),
                "receivedAt": iso_utc_ms(received),
                "channel": "server",
            }
            self._emit(msg, received, False, rng, person.person_id, sent, 0)

    def take(self, day: int) -> tuple[list[str], list[str]]:
        """The day's delivery, in arrival order: (web lines, mobile lines)."""
        batch = self.pending.pop(day, [])
        batch.sort()
        web = [line for _, _, mobile, line in batch if not mobile]
        mob = [line for _, _, mobile, line in batch if mobile]
        return web, mob
