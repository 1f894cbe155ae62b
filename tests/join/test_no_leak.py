"""With confirmation on, a sign-up never tells whether the person is a member already: the
same status and body for a new email, a known one and a known phone, in comparable time."""

from __future__ import annotations

import itertools
import statistics
import time

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.join.pages import fields, form_of, rows, sign_up
from tests.kit.programs import MakeCard
from walletcards.db import Database
from walletcards.loyalty.models import Program

ROUNDS = 9


def timed_post(client: FlaskClient, n: int, **changes: str) -> tuple[TestResponse, float]:
    environ = {"REMOTE_ADDR": f"10.0.{n // 250}.{n % 250 + 1}"}
    data = {"form": form_of(client.get("/join/demo", environ_base=environ)), **fields(**changes)}
    started = time.perf_counter()
    answer = client.post("/join/demo", data=data, environ_base=environ)
    return answer, time.perf_counter() - started


def test_new_and_known_members_get_the_same_answer_in_comparable_time(
    client: FlaskClient, database: Database, program: Program, make_card: MakeCard
) -> None:
    make_card(program, email="ann@example.com", phone="+447911123456", name="Ann")
    sign_up(client, email="warm-up@example.com", address="10.9.9.9")  # first-request costs
    answers: dict[str, list[TestResponse]] = {"new": [], "email": [], "phone": []}
    times: dict[str, list[float]] = {"new": [], "email": [], "phone": []}
    addresses = itertools.count()  # one post per client address: none is rate-limited
    for n in range(ROUNDS):  # interleaved and rotated: drift and position hit all alike
        kinds = [
            ("new", {"email": f"new{n}@example.com"}),
            ("email", {"email": "ANN@example.com", "name": f"Someone {n}"}),
            ("phone", {"email": f"other{n}@example.com", "phone": "+44 7911 123456"}),
        ]
        for kind, changes in kinds[n % 3 :] + kinds[: n % 3]:
            answer, took = timed_post(client, next(addresses), **changes)
            answers[kind].append(answer)
            times[kind].append(took)
    shapes = {
        (a.status_code, a.get_data(), a.headers.get("Set-Cookie"), a.mimetype)
        for group in answers.values()
        for a in group
    }
    assert len(shapes) == 1, shapes
    ((status, body, cookie, _),) = shapes
    assert status == 200 and b"Check your email" in body and cookie is None
    means = {kind: statistics.mean(values) for kind, values in times.items()}
    # the answer waits for views.ANSWER_FLOOR: a slow database shows, but not two-fold
    assert max(means.values()) < 2 * min(means.values()), means
    assert rows(database)[:2] == (1 + 1 + ROUNDS, 1 + 1 + ROUNDS)  # Ann, the warm-up, the new
