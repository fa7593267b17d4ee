"""Realistic provider outputs per cloud; each module registers its mocks on import."""
