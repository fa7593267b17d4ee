# Hub config snippet: hand the user's OAuth access token to their server, so notebooks can
# call services that trust the same identity provider. Needs enable_auth_state (CryptKeeper).
# Run by z2jh's jupyterhub_config.py with exec(): `c` is the hub's config there (no get_config()).


async def _pass_access_token(spawner):
    auth_state = await spawner.user.get_auth_state()
    if auth_state and auth_state.get("access_token"):
        spawner.environment["OAUTH_ACCESS_TOKEN"] = auth_state["access_token"]


c.Spawner.pre_spawn_hook = _pass_access_token  # noqa: F821 (`c` is the hub's config, see above)
