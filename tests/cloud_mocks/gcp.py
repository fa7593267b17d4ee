"""Realistic pulumi-gcp outputs: what GKE, IAM, Compute and Artifact Registry return."""

from __future__ import annotations

import base64
import json
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from harness import RunOptions, fake_hex, resource_mock

GKE_ENDPOINT = "34.118.100.20"
# What GKE returns in masterAuth.clusterCaCertificate: a base64-encoded PEM certificate.
GKE_CA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nMIIELTCCApWgAwIBAgIRAKgke\n-----END CERTIFICATE-----\n"
).decode()
INGRESS_IP = "198.51.100.7"
KEY_PEM_MARKER = "-----BEGIN PRIVATE KEY-----"


def _project(args: pulumi_mocks.MockResourceArgs) -> str:
    return args.inputs.get("project") or "mock-project"


def service_account_key_json(email: str, project: str, seed: str) -> str:
    """A service account key file as `gcloud iam service-accounts keys create` writes it."""
    return json.dumps(
        {
            "type": "service_account",
            "project_id": project,
            "private_key_id": fake_hex(f"{seed}-id", 40),
            "private_key": f"{KEY_PEM_MARKER}\nMIIEv{fake_hex(seed, 48)}\n-----END PRIVATE KEY-----\n",
            "client_email": email,
            "client_id": str(int(fake_hex(f"{seed}-client", 12), 16)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        },
        indent=2,
    )


@resource_mock("gcp:container/cluster:Cluster")
def _cluster(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    location = args.inputs["location"]
    return {
        "endpoint": GKE_ENDPOINT,
        "masterAuth": {"clusterCaCertificate": GKE_CA, "clientCertificateConfig": {"issueClientCertificate": False}},
        "selfLink": f"https://container.googleapis.com/v1/projects/{_project(args)}/locations/{location}/clusters/{args.inputs['name']}",
        "masterVersion": "1.33.5-gke.1080000",
        "operation": None,
        # The network the cluster was put in (the project's default VPC when none is given).
        "network": args.inputs.get("network") or f"projects/{_project(args)}/global/networks/default",
        "subnetwork": args.inputs.get("subnetwork")
        or f"projects/{_project(args)}/regions/{_region(location)}/subnetworks/default",
    }


def _region(location: str) -> str:
    """us-central1-a -> us-central1; a region stays itself."""
    parts = location.split("-")
    return "-".join(parts[:2]) if len(parts) == 3 else location


@resource_mock("gcp:compute/router:Router")
def _router(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    project, region, name = _project(args), args.inputs["region"], args.inputs["name"]
    return {
        "id": f"projects/{project}/regions/{region}/routers/{name}",
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project}/regions/{region}/routers/{name}",
        "creationTimestamp": "2026-01-01T00:00:00.000-08:00",
    }


@resource_mock("gcp:compute/routerNat:RouterNat")
def _router_nat(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    project, region = _project(args), args.inputs["region"]
    return {"id": f"{project}/{region}/{args.inputs['router']}/{args.inputs['name']}"}


@resource_mock("gcp:logging/projectBucketConfig:ProjectBucketConfig")
def _log_bucket(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    bucket = f"projects/{args.inputs['project']}/locations/{args.inputs['location']}/buckets/{args.inputs['bucketId']}"
    return {"id": bucket, "name": bucket, "lifecycleState": "ACTIVE"}


@resource_mock("gcp:logging/projectSink:ProjectSink")
def _log_sink(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    project = args.inputs["project"]
    return {
        "id": f"projects/{project}/sinks/{args.inputs['name']}",
        # The project's Logging service agent (unique writer identity, the default).
        "writerIdentity": "serviceAccount:service-123456789012@gcp-sa-logging.iam.gserviceaccount.com",
    }


@resource_mock("gcp:container/nodePool:NodePool")
def _node_pool(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {
        "version": "1.33.5-gke.1080000",
        "instanceGroupUrls": [
            f"https://www.googleapis.com/compute/v1/projects/{_project(args)}/zones/{args.inputs['location']}"
            f"/instanceGroupManagers/gke-{args.inputs['name']}-grp"
        ],
    }


@resource_mock("gcp:serviceaccount/account:Account")
def _service_account(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    email = f"{args.inputs['accountId']}@{_project(args)}.iam.gserviceaccount.com"
    return {
        "email": email,
        "name": f"projects/{_project(args)}/serviceAccounts/{email}",
        "member": f"serviceAccount:{email}",
        "uniqueId": str(int(fake_hex(email, 12), 16)),
    }


@resource_mock("gcp:serviceaccount/key:Key")
def _service_account_key(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    account = str(args.inputs["serviceAccountId"])
    email = account.rsplit("/", 1)[-1]
    project = email.split("@")[1].split(".")[0]
    key_file = service_account_key_json(email, project, args.name)
    return {
        "name": f"{account}/keys/{fake_hex(args.name, 40)}",
        "privateKey": base64.b64encode(key_file.encode()).decode(),  # the key file, base64 (a secret output)
        "publicKey": base64.b64encode(b"-----BEGIN CERTIFICATE-----\n...").decode(),
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE",
    }


@resource_mock("gcp:compute/address:Address")
def _address(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {
        "address": INGRESS_IP,
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/{_project(args)}/regions/{args.inputs['region']}/addresses/{args.inputs['name']}",
        "users": [],
    }


@resource_mock("gcp:artifactregistry/repository:Repository")
def _repository(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    repository_id = args.inputs["repositoryId"]
    return {
        "name": repository_id,
        "createTime": "2026-01-01T00:00:00Z",
        "registryUri": f"{args.inputs['location']}-docker.pkg.dev/{_project(args)}/{repository_id}",
    }


@resource_mock("gcp:projects/service:Service")
def _service(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {}
