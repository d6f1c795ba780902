"""Controllers of Heat's v1 routes; each module exports ROUTES and Controller (router.py)."""
