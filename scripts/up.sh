#!/usr/bin/env bash
# The main job: `pulumi up` of a stack (default dev) on the embedded defaults: a local
# file state backend and passphrase-encrypted secrets, unless you are logged in elsewhere.
set -euo pipefail
stack=${1:-dev}
action=${2:-up}
cd "$(dirname "$0")/.."

fail() { echo "error: $*" >&2; exit 1; }

command -v pulumi >/dev/null 2>&1 || fail "the Pulumi CLI is not installed or not on PATH.
  Install it (https://www.pulumi.com/docs/install/), then run 'make up' again."
[ -f "Pulumi.$stack.yaml" ] || fail "no Pulumi.$stack.yaml: stacks here are: $(ls Pulumi.*.yaml | sed 's/Pulumi\.\(.*\)\.yaml/\1/' | grep -v '^yaml$' | tr '\n' ' ')"

secret_key=${3:-}
if [ "$action" = secret ]; then
  case "$secret_key" in
    kubeconfig|registryPassword|oauthClientSecret|githubToken|gitlabToken) ;;
    *) fail "KEY='$secret_key' is not a secret this program reads: kubeconfig, registryPassword, oauthClientSecret, githubToken, gitlabToken" ;;
  esac
fi

# Credentials the target needs, checked before anything runs (not needed to store a secret).
cloud=$(sed -n 's/^ *binderhub:cloud: *//p' "Pulumi.$stack.yaml" | tr -d '"'"'"' ')
case "$action:$cloud" in
  secret:*) ;;
  *:existing)
    kubeconfig=${KUBECONFIG:-$HOME/.kube/config}
    if [ ! -f "${kubeconfig%%:*}" ] && ! grep -q 'binderhub:kubeconfig' "Pulumi.$stack.yaml"; then
      fail "stack '$stack' deploys to an existing cluster but no kubeconfig was found at ${kubeconfig%%:*}.
  Point KUBECONFIG at your cluster, or: pulumi config set --secret binderhub:kubeconfig < kubeconfig.yaml"
    fi ;;
  *:azure) command -v az >/dev/null 2>&1 && az account show >/dev/null 2>&1 \
           || [ -n "${ARM_CLIENT_ID:-}" ] || fail "no Azure credentials: run 'az login' (or set ARM_CLIENT_ID/ARM_CLIENT_SECRET/ARM_TENANT_ID)." ;;
  *:aws) [ -n "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] || [ -f "$HOME/.aws/credentials" ] \
         || fail "no AWS credentials: run 'aws configure' or 'aws sso login', or set AWS_PROFILE." ;;
  *:gcp) [ -n "${GOOGLE_APPLICATION_CREDENTIALS:-}${GOOGLE_CREDENTIALS:-}" ] \
         || [ -f "$HOME/.config/gcloud/application_default_credentials.json" ] \
         || fail "no Google Cloud credentials: run 'gcloud auth application-default login'." ;;
  *) fail "Pulumi.$stack.yaml sets no valid binderhub:cloud (azure, aws, gcp or existing)." ;;
esac

# State backend: whatever you are logged in to; otherwise a local folder next to the project.
if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! pulumi whoami >/dev/null 2>&1; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
  echo "Using the local state backend $PULUMI_BACKEND_URL"
fi
if [[ "${PULUMI_BACKEND_URL:-}" == file://* ]] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] && [ ! -t 0 ]; then
  fail "secrets are encrypted with a passphrase: export PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE)."
fi

# The program's packages (uv.lock without the dev group), installed just before the program runs:
# after every check above, and never for `make secret`, which runs no program. Pulumi's uv
# toolchain (Pulumi.yaml) calls uv itself, so the pinned one goes first on PATH.
program_env() {
  local uv
  uv=$(bash scripts/uv.sh)
  PATH="$(dirname "$uv"):$PATH"
  export PATH
  bash scripts/venv.sh runtime
}

pulumi stack select --create "$stack" --secrets-provider "${PULUMI_SECRETS_PROVIDER:-passphrase}"
case "$action" in
  up) program_env; pulumi up --stack "$stack" ${PULUMI_UP_ARGS:-} ;;
  preview) program_env; pulumi preview --diff --stack "$stack" ;;
  destroy)
    # Protected resources (binderhub:protect) make the engine stop half-way: say how to lift it first.
    if [ "$(pulumi config get binderhub:protect --stack "$stack" 2>/dev/null || true)" = "true" ]; then
      fail "stack '$stack' is protected (binderhub:protect: true): its cluster and registry refuse deletion.
  To tear it down, lift the protection, apply it, then destroy:
    pulumi config set binderhub:protect false --stack $stack
    make up STACK=$stack        # changes only the protection flags
    make destroy STACK=$stack"
    fi
    program_env
    # --run-program: the delete hooks (user volumes, ECR repositories) live in the program.
    pulumi destroy --run-program --stack "$stack" ;;
  # The value comes from stdin (or a hidden prompt); it is encrypted into Pulumi.<stack>.yaml.
  secret) pulumi config set --secret --stack "$stack" "binderhub:$secret_key" ;;
  *) fail "unknown action $action (up, preview, destroy or secret)" ;;
esac
