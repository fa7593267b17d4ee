# The two commands: `make up` (deploy the `dev` stack, or STACK=<name>) and `make test`.
STACK ?= dev
.PHONY: up preview destroy test
up:
	bash scripts/up.sh $(STACK) up
preview:
	bash scripts/up.sh $(STACK) preview
destroy:
	bash scripts/up.sh $(STACK) destroy
test:
	bash scripts/test.sh
