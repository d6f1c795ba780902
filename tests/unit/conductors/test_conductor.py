"""Tests for heat_taskflow.conductors.conductor's view of the job board."""


def test_the_taskflow_conductor_iterates_only_unclaimed_jobs():
    # TaskFlow's conductor tries to claim whatever iterjobs() yields; claimed jobs must not
    # be offered again on every pass.
    from heat_taskflow.conductors import conductor as conductor_mod

    calls = []

    class Board:
        name = 'b'

        def iterjobs(self, only_unclaimed=False, ensure_fresh=False):
            calls.append((only_unclaimed, ensure_fresh))
            return iter(())

    seen = conductor_mod._UnclaimedJobs(Board())
    assert list(seen.iterjobs(ensure_fresh=True)) == []
    assert calls == [(True, True)]
    assert seen.name == 'b'           # everything else is the board's own
