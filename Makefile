# The two commands: `make up` (deploy the `dev` stack, or STACK=<name>) and `make test`.
STACK ?= dev
.PHONY: up preview destroy secret test bench
up:
	bash scripts/up.sh $(STACK) up
preview:
	bash scripts/up.sh $(STACK) preview
destroy:
	bash scripts/up.sh $(STACK) destroy
# Store one secret in the stack, e.g. make secret STACK=prod KEY=oauthClientSecret (value on stdin or prompted)
secret:
	bash scripts/up.sh $(STACK) secret $(KEY)
test:
	bash scripts/test.sh
# Not a test: how long each committed stack takes to evaluate under the mocks (README "Performance").
bench:
	bash scripts/venv.sh runtime
	.venv/bin/python scripts/bench.py $(BENCH_ARGS)
