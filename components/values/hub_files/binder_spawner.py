# Hub config snippet (z2jh hub.extraConfig) for the `service` shape, BinderHub page on or off:
# servers that BinderHub launches run the image it built; anonymous visitors reach theirs
# with the token BinderHub handed them. z2jh's jupyterhub_config.py runs this with exec() in its
# own namespace: `c` is the hub's config there, and `get_config` is z2jh's (key, default) helper,
# not traitlets' (calling it without a key stops the hub at start).
from kubespawner import KubeSpawner
from tornado import web
from traitlets import Bool, Unicode

# What BinderHub passes in user_options, exposed to the server as environment variables.
_BINDER_ENV = {
    "repo_url": "BINDER_REPO_URL",
    "binder_ref_url": "BINDER_REF_URL",
    "binder_launch_host": "BINDER_LAUNCH_HOST",
    "binder_persistent_request": "BINDER_PERSISTENT_REQUEST",
    "binder_request": "BINDER_REQUEST",
}


class BinderSpawner(KubeSpawner):
    auth_enabled = Bool(False, config=True, help="Users log in to the hub; servers use hub auth.")
    cors_allow_origin = Unicode("", config=True, help="Access-Control-Allow-Origin of launched servers.")

    def start(self):
        options = self.user_options or {}
        if not self.auth_enabled and not {"image", "token"} <= options.keys():
            raise web.HTTPError(400, "an anonymous Binder launch needs an image and a token")
        if "image" in options:
            self.image = options["image"]
        return super().start()

    async def load_user_options(self):
        # A launch from BinderHub brings its own image (set in start()). The profile menu is for
        # servers started from the hub's form: applied to a Binder launch it would read
        # BinderHub's `image` as a menu choice (KubeSpawner's profile option of that name) and
        # fail, or put the menu's default image in place of the one BinderHub built.
        if "repo_url" in (self.user_options or {}):
            return
        await super().load_user_options()

    def get_args(self):
        if self.auth_enabled:
            return super().get_args()
        settings = {
            "ip": "0.0.0.0",
            "port": str(self.port),
            "base_url": self.server.base_url,
            "token": self.user_options["token"],
            "trust_xheaders": "True",
        }
        if self.default_url:
            settings["default_url"] = self.default_url
        if self.cors_allow_origin:
            settings["allow_origin"] = self.cors_allow_origin
        # Jupyter Server reads ServerApp.*, classic notebook servers NotebookApp.*.
        args = [f"--{app}.{key}={value}" for app in ("ServerApp", "NotebookApp") for key, value in settings.items()]
        if self.cors_allow_origin == "*":
            args += ["--ServerApp.allow_origin_pat=.*", "--NotebookApp.allow_origin_pat=.*"]
        return args + list(self.args)

    def get_env(self):
        env = super().get_env()
        for option, variable in _BINDER_ENV.items():
            if option in (self.user_options or {}):
                env[variable] = self.user_options[option]
        return env


c.JupyterHub.spawner_class = BinderSpawner  # noqa: F821 (`c` is the hub's config, see above)
