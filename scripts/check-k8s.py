#!/usr/bin/env python3
"""Independent checks of what Locus produces, with implementations that are not Locus's own.

  check-k8s.py patches CASES.jsonl   each line {"name", "original", "patch", "expected"}: the patch
                                     (RFC 6902) must apply to the original with the `jsonpatch`
                                     package, give `expected`, and the result must be a valid Pod.
  check-k8s.py manifests FILE...     every document must be a valid object of its kind.
  check-k8s.py promql FILE...        every PromQL expression of a Grafana dashboard (JSON: panel
                                     targets) or PrometheusRule (YAML: rule exprs) must parse with
                                     PyPI `promql-parser`; prints "expr <expression>" per expression.

"Valid" means both:
  - the published Kubernetes OpenAPI schema (PyPI `kubernetes-validate`, strict: no unknown
    fields) of KUBERNETES_VERSION accepts it: field names, types, required fields;
  - the official Kubernetes Python models (PyPI `kubernetes`) accept the object with their
    required-field checks, and reading it into the model and writing it back loses nothing, so a
    misspelt or misplaced field is caught.
Kinds with no published schema (CRDs, kustomizations) are checked as YAML only.
Prints one line per problem and "ok N"; exits 1 on any.
"""
import json
import sys

import jsonpatch
import kubernetes_validate
import yaml
from kubernetes import client

# Native sidecars (restartPolicy on init containers) are in the schema from 1.28 on.
KUBERNETES_VERSION = "1.33.0"

API = client.ApiClient()
MODELS = {
    ("v1", "Pod"): "V1Pod",
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding",
    ("rbac.authorization.k8s.io/v1", "Role"): "V1Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "V1RoleBinding",
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"): "V1MutatingWebhookConfiguration",
}


def differences(a, b, path="", gone="dropped (not a field of the model)"):
    """Paths where b differs from a."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in b:
                out.append(f"{path}/{k}: {gone}")
            elif k not in a:
                out.append(f"{path}/{k}: appeared")
            else:
                out += differences(a[k], b[k], f"{path}/{k}", gone)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: list length {len(a)} became {len(b)}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}/{i}", gone)
        return out
    return [] if a == b else [f"{path}: {a!r} became {b!r}"]


def validate(obj, model=None):
    if not isinstance(obj, dict):
        return ["not an object"]
    model = model or MODELS.get((obj.get("apiVersion"), obj.get("kind")))
    if model is None:
        return [f"no model for apiVersion {obj.get('apiVersion')} kind {obj.get('kind')}"]
    problems = schema_problems(obj)
    try:
        # The models' own reader (the public wrapper around it changed signature across releases).
        typed = API._ApiClient__deserialize(obj, model)
    except (ValueError, TypeError) as e:
        return problems + [f"rejected by {model}: {e}"]
    return problems + differences(obj, API.sanitize_for_serialization(typed))


def schema_problems(obj):
    """What the published OpenAPI schema of KUBERNETES_VERSION says is wrong (strict)."""
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        where = "/" + "/".join(str(p) for p in e.path)
        return [f"schema {KUBERNETES_VERSION}: {where}: {e.message}"]
    return []


def check_patches(path):
    problems, n = [], 0
    with open(path) as f:
        for line in f:
            case = json.loads(line)
            n += 1
            name = case["name"]
            try:
                result = jsonpatch.apply_patch(case["original"], case["patch"])
            except Exception as e:  # jsonpatch raises several types
                problems.append(f"{name}: patch does not apply: {e}")
                continue
            if "expected" in case and result != case["expected"]:
                problems.append(f"{name}: patched pod differs from Locus's mutated pod: {differences(case['expected'], result, gone='missing')[:5]}")
            problems += [f"{name}: {p}" for p in validate(result, "V1Pod")]
    return problems, n


def check_manifests(paths):
    problems, n = [], 0
    for p in paths:
        with open(p) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                n += 1
                if (doc.get("apiVersion"), doc.get("kind")) not in MODELS:
                    continue  # kinds without a model or schema (CRDs, kustomization, scheduler config): YAML validity only
                name = f"{p}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
                problems += [f"{name}: {x}" for x in validate(doc)]
    return problems, n


def expressions(path):
    """(where, expr) of every PromQL expression in a dashboard or a PrometheusRule."""
    if path.endswith(".json"):
        with open(path) as f:
            dashboard = json.load(f)
        panels = dashboard.get("panels", [])
        panels += [q for p in panels for q in p.get("panels", [])]
        return [(f"{path}: panel {p.get('title')!r}", t["expr"]) for p in panels for t in p.get("targets", [])]
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    return [(f"{path}: rule {r.get('alert') or r.get('record')}", r["expr"])
            for d in docs for g in d.get("spec", {}).get("groups", []) for r in g.get("rules", [])]


def check_promql(paths):
    import promql_parser
    problems, n = [], 0
    for p in paths:
        for where, expr in expressions(p):
            n += 1
            print(f"expr {expr}")
            try:
                # Grafana's interval variables stand for a duration.
                promql_parser.parse(expr.replace("$__rate_interval", "5m").replace("$__interval", "1m"))
            except Exception as e:  # the parser raises its own error types
                problems.append(f"{where}: {expr}: {e}")
    return problems, n


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("patches", "manifests", "promql"):
        print(__doc__)
        return 2
    mode = sys.argv[1]
    if mode == "patches":
        problems, n = check_patches(sys.argv[2])
    elif mode == "manifests":
        problems, n = check_manifests(sys.argv[2:])
    else:
        problems, n = check_promql(sys.argv[2:])
    for p in problems:
        print(p)
    print(f"ok {n - len(problems) if not problems else 0} of {n}" if problems else f"ok {n}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
