# The two commands: `make up` (deploy the `dev` stack, or STACK=<name>, then its smoke test) and `make test`.
STACK ?= dev
# STACK and KEY reach scripts/up.sh as data: taken unexpanded (make would run a `$(shell ...)` in
# them), exported, and quoted by the recipe's shell, so `make up 'STACK=dev;echo X'` passes one
# argument, which up.sh refuses.
override STACK := $(value STACK)
override KEY := $(value KEY)
export STACK KEY
.PHONY: up preview destroy secret smoke test bench
up:
	bash scripts/up.sh "$$STACK" up
preview:
	bash scripts/up.sh "$$STACK" preview
destroy:
	bash scripts/up.sh "$$STACK" destroy
# The smoke test `make up` ends with, on its own (scripts/smoke.py; README "The smoke test")
smoke:
	bash scripts/up.sh "$$STACK" smoke
# Store one secret in the stack, e.g. make secret STACK=prod KEY=oauthClientSecret (value on stdin or prompted)
secret:
	bash scripts/up.sh "$$STACK" secret "$$KEY"
test:
	bash scripts/test.sh
# Not a test: how long each committed stack takes to evaluate under the mocks (README "Performance").
bench:
	bash scripts/venv.sh runtime
	.venv/bin/python scripts/bench.py $(BENCH_ARGS)
