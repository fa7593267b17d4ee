"""Small, faithful ports of upstream rules that the deployed software applies to our objects.

Each module names the upstream repository, file, function and commit or tag it was read from.
The ports are re-expressions of the upstream logic for tests, not copies of upstream code.
"""
