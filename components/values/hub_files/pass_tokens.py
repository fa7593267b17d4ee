# Hub config snippet: hand the user's OAuth access token to their server, so notebooks can
# call services that trust the same identity provider. Needs enable_auth_state (CryptKeeper).
c = get_config()  # type: ignore[name-defined]  # noqa: F821 (provided by JupyterHub's config loader)


async def _pass_access_token(spawner):
    auth_state = await spawner.user.get_auth_state()
    if auth_state and auth_state.get("access_token"):
        spawner.environment["OAUTH_ACCESS_TOKEN"] = auth_state["access_token"]


c.Spawner.pre_spawn_hook = _pass_access_token
