"""makechat/throttle.py: exact limits under parallel attempts."""

import threading

import pytest

from makechat.throttle import Refused, Rule, Throttle


def claim_in_parallel(rule, value, count):
    """Claim `count` times at once from threads; return (claims, refusals)."""
    throttle, barrier = Throttle(), threading.Barrier(count)
    claims, refusals, lock = [], [], threading.Lock()

    def attempt():
        barrier.wait()
        try:
            claim = throttle.claim([(rule, value)])
        except Refused as refused:
            with lock:
                refusals.append(refused)
            return
        with lock:
            claims.append(claim)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claims, refusals


def test_parallel_claims_never_exceed_the_limit(config):
    claims, refusals = claim_in_parallel(Rule("t", 10, 60), "alice", 60)
    assert len(claims) == 10
    assert len(refusals) == 50
    assert all(refused.retry_after >= 1 for refused in refusals)


def test_released_claim_frees_its_slot(config):
    throttle, rule = Throttle(), Rule("t", 1, 60)
    throttle.claim([(rule, "k")]).release()
    throttle.claim([(rule, "k")])
    with pytest.raises(Refused):
        throttle.claim([(rule, "k")])


def test_claims_older_than_the_window_expire(config, raw_db):
    from datetime import timedelta
    throttle, rule = Throttle(), Rule("t", 1, 60)
    throttle.claim([(rule, "k")])
    held = raw_db.attempts.find_one()
    raw_db.attempts.update_one({"_id": held["_id"]},
                               {"$set": {"at": held["at"] - timedelta(seconds=61)}})
    throttle.claim([(rule, "k")])  # the old attempt left its window


def test_refusal_on_one_key_holds_no_slot_of_another(config):
    throttle, loose, strict = Throttle(), Rule("loose", 5, 60), Rule("strict", 1, 60)
    throttle.claim([(strict, "k")])
    with pytest.raises(Refused) as refused:
        throttle.claim([(loose, "k"), (strict, "k")])
    assert refused.value.rule is strict
    assert throttle.count(loose, "k") == 0


def test_retry_after_counts_down_from_the_oldest_attempt(config):
    throttle, rule = Throttle(), Rule("t", 1, 600)
    throttle.claim([(rule, "k")])
    with pytest.raises(Refused) as refused:
        throttle.claim([(rule, "k")])
    assert 590 <= refused.value.retry_after <= 600
