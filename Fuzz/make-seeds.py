#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (Fuzz/corpus/<target>/) from real inputs in the repository,
and the hand-made nasty inputs the regression tests replay (Tests/Fixtures/fuzz/<target>/).

Run from anywhere: python3 Fuzz/make-seeds.py (needs PyYAML for examples/*.yaml). The output is
committed; scripts/fuzz does not run this.
"""
import base64, json, os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")
NASTY = os.path.join(ROOT, "Tests", "Fixtures", "fuzz")


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    elif not isinstance(data, bytes):
        data = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def review(pod, uid="705ab4f5-6393-11e8-b7cc-42010a800002", api="admission.k8s.io/v1", op="CREATE",
           kind=None, namespace="ml"):
    kind = kind or {"group": "", "version": "v1", "kind": "Pod"}
    return {"apiVersion": api, "kind": "AdmissionReview", "request": {
        "uid": uid, "kind": kind, "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": kind, "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": namespace, "operation": op,
        "userInfo": {"username": "system:serviceaccount:kube-system:job-controller", "groups": ["system:serviceaccounts"]},
        "object": pod, "dryRun": False, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}


def pod(name="p", namespace="ml", labels=None, annotations=None, claims=(), init=False):
    labels = {"locus.dev/inject": "true"} if labels is None else labels
    meta = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    spec = {"containers": [{"name": "app", "image": "busybox:1.36",
                            "volumeMounts": [{"name": c, "mountPath": "/data/" + c} for c in claims]}],
            "volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]}
    if init:
        spec["initContainers"] = [{"name": "prepare", "image": "busybox:1.36"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


# The pod of the built-in example requests (Sources/WebhookServer/ExampleState.swift).
example = read("Sources/WebhookServer/ExampleState.swift").decode()
EXAMPLE_POD = json.loads(re.search(r'static let pod = #"(.*?)"#', example).group(1))

SCENARIOS = {
    "native-sidecar": pod(labels={"serverless.fluid.io/inject": "true"}, claims=["imagenet"], init=True),
    "no-mount-check": pod(labels={"serverless.fluid.io/inject": "true", "fuse.sidecar.poststart.fluid.io/inject": "false"},
                          claims=["llama-weights"]),
    "serverful-two": pod(labels={"fuse.serverful.fluid.io/inject": "true"}, claims=["imagenet", "llama-weights"]),
    "vineyard-annotation": pod(annotations={"locus.dev/datasets": "features"}),
    "everything": pod(annotations={"locus.dev/datasets": "features", "locus.dev/fuse-mode": "sidecar"},
                      claims=["imagenet", "llama-weights"], init=True),
    "no-datasets": pod(),
    "analytics-shared": pod(namespace="analytics", labels={}, annotations={"locus.dev/datasets": "ml/llama-weights"}),
    "required-affinity": pod(labels={"locus.dev/inject": "true", "fluid.io/dataset.imagenet.sched": "required"}, claims=["imagenet"]),
    "missing-dataset": pod(annotations={"locus.dev/datasets": "features,nope"}),
    "cross-namespace-denied": pod(namespace="analytics", labels={}, annotations={"locus.dev/datasets": "ml/imagenet"}),
    "opt-out": pod(labels={"locus.dev/inject": "true", "fluid.io/enable-injection": "false"}, claims=["imagenet"]),
    "example": EXAMPLE_POD,
}


def admission_seeds():
    d = os.path.join(CORPUS, "admission")
    write(d, "bench-review-small.json", read("bench/review-small.json"))
    write(d, "bench-review-10k.json", read("bench/review-10k.json"))
    for name, p in SCENARIOS.items():
        write(d, "scenario-" + name + ".json", review(p, namespace=p["metadata"]["namespace"]))
    write(d, "v1beta1.json", review(SCENARIOS["everything"], api="admission.k8s.io/v1beta1"))
    write(d, "update.json", review(SCENARIOS["everything"], op="UPDATE"))
    write(d, "not-a-pod.json", review({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
                                      kind={"group": "", "version": "v1", "kind": "ConfigMap"}))
    write(d, "no-object.json", review(None, op="DELETE"))
    try:
        import yaml
        for f in sorted(os.listdir(os.path.join(ROOT, "examples"))):
            if f.endswith(".yaml"):
                p = yaml.safe_load(read("examples/" + f))
                write(d, "example-" + f[:-5] + ".json", review(p, namespace=p["metadata"].get("namespace", "default")))
    except ImportError:
        print("PyYAML missing: examples/*.yaml skipped", file=sys.stderr)
    # Pods as the API server lists them (Fixtures/kube), wrapped in a review and opted in.
    for item in json.loads(read("Tests/Fixtures/kube/pods-list-page1.json"))["items"][:2]:
        item.setdefault("metadata", {}).setdefault("labels", {})["serverless.fluid.io/inject"] = "true"
        write(d, "kube-pod-" + item["metadata"]["name"] + ".json", review(item, namespace=item["metadata"].get("namespace", "ml")))


def node(name, labels):
    return {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name, "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


EXAMPLE_NODES = [
    node("node-a", {"kubernetes.io/hostname": "node-a", "topology.kubernetes.io/zone": "zone-1", "fluid.io/s-ml-imagenet": "true",
                    "fluid.io/s-ml-features": "true", "fluid.io/dataset-num": "2"}),
    node("node-b", {"kubernetes.io/hostname": "node-b", "topology.kubernetes.io/zone": "zone-1", "fluid.io/s-ml-imagenet": "true",
                    "fluid.io/s-ml-llama-weights": "true", "fluid.io/s-ml-features": "true", "fluid.io/dataset-num": "3"}),
    node("node-c", {"kubernetes.io/hostname": "node-c", "topology.kubernetes.io/zone": "zone-2"}),
]


def extender_seeds():
    d = os.path.join(CORPUS, "extender")
    names = ["node-a", "node-b", "node-c"]
    for name, p in SCENARIOS.items():
        write(d, "names-" + name + ".json", {"Pod": p, "Nodes": None, "NodeNames": names})
    write(d, "nodelist-example.json", {"Pod": EXAMPLE_POD, "Nodes": {"apiVersion": "v1", "kind": "NodeList", "metadata": {},
                                                                     "items": EXAMPLE_NODES}, "NodeNames": None})
    fixture = json.loads(read("Tests/Fixtures/kube/node.json"))
    write(d, "nodelist-fixture-node.json", {"Pod": SCENARIOS["vineyard-annotation"], "Nodes": {"items": [fixture] + EXAMPLE_NODES[1:]}})
    write(d, "names-unknown-nodes.json", {"Pod": SCENARIOS["everything"], "NodeNames": ["node-a", "node-x", "node-a"]})
    write(d, "lowercase-keys.json", {"pod": SCENARIOS["vineyard-annotation"], "nodes": None, "nodenames": ["node-b", "node-c"]})


def json_seeds():
    d = os.path.join(CORPUS, "json")
    for f in ["dataset.json", "node.json", "pvc.json", "configmap.json", "alluxioruntime.json", "status-410-gone.json"]:
        write(d, "kube-" + f, read("Tests/Fixtures/kube/" + f))
    write(d, "review-small.json", read("bench/review-small.json"))
    write(d, "nodelist.json", {"Pod": {}, "Nodes": {"items": EXAMPLE_NODES}})
    write(d, "scalars.json", '[0,-0,1.5e300,-1E-300,9223372036854775807,-9223372036854775808,true,false,null,"\\u00e9\\ud83d\\ude00\\n\\/"]')
    write(d, "string-escapes.json", '{"a\\u0000b":"\\"\\\\\\b\\f\\n\\r\\t","\\u2028":"caf\xc3\xa9"}')


def nasty():
    a = os.path.join(NASTY, "admission")
    small = read("bench/review-small.json")
    write(a, "truncated-review.json", small[: len(small) // 2])
    write(a, "empty.json", b"")
    write(a, "null.json", b"null")
    write(a, "bom.json", b"\xef\xbb\xbf" + small)
    deep = b'{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","kind":{"kind":"Pod"},"object":{"metadata":{"labels":{"locus.dev/inject":"true"}},"spec":'
    write(a, "deep-nesting-255.json", deep + b"[" * 250 + b"]" * 250 + b"}}}")
    write(a, "deep-nesting-over-limit.json", deep + b"[" * 300 + b"]" * 300 + b"}}}")
    write(a, "deep-nesting-unclosed.json", deep + b"[" * 100000)
    huge = review(SCENARIOS["everything"])
    text = json.dumps(huge).replace('"dryRun": false', '"dryRun": false, "n1": 1e400, "n2": 99999999999999999999999, "n3": -0, "n4": 1E-400')
    write(a, "huge-numbers.json", text)
    big = SCENARIOS["everything"].copy()
    big = json.loads(json.dumps(big))
    big["spec"]["priority"] = 1.0
    big["spec"]["activeDeadlineSeconds"] = 123456789012345678
    big["spec"]["terminationGracePeriodSeconds"] = 1e15
    big["spec"]["overhead"] = {"x": 0.1, "y": -0.0, "z": 5e-324, "w": 1.7976931348623157e308}
    write(a, "float-fields-in-pod.json", review(big))
    write(a, "invalid-utf8-uid.json", json.dumps(review(SCENARIOS["example"], uid="UID")).encode().replace(b"UID", b"\xff\xfe\xc0\xaf"))
    write(a, "invalid-utf8-label.json", json.dumps(review(SCENARIOS["example"])).encode().replace(b"trainer", b"tr\xed\xa0\x80iner"))
    write(a, "lone-surrogate.json", json.dumps(review(SCENARIOS["example"], uid="X")).replace('"X"', '"\\ud800x"'))
    dup = json.dumps(review(SCENARIOS["everything"], uid="first"))
    dup = dup.replace('"uid": "first"', '"uid": "first", "uid": "second", "operation": "DELETE", "operation": "CREATE"', 1)
    dup = dup.replace('"kind": "AdmissionReview"', '"kind": "Nope", "kind": "AdmissionReview"', 1)
    write(a, "duplicate-keys.json", dup)
    write(a, "uid-quotes-control.json", review(SCENARIOS["everything"], uid='a"b\\c\n\t\x00\x01\x1f\u2028\u2029</script>\U0001F600'))
    write(a, "uid-quotes-control-skipped.json", review(None, op="DELETE", uid='"\\\x7f'))
    weird = json.loads(json.dumps(SCENARIOS["everything"]))
    weird["metadata"]["name"] = "we/ird~0~1\"name"
    weird["metadata"]["annotations"]["a/b~c"] = "x~1y"
    weird["metadata"]["annotations"]["locus.dev/injected"] = "[\"garbage\""
    weird["metadata"]["labels"]["~1"] = "/"
    weird["spec"]["containers"][0]["name"] = "app/~0\u00e9"
    weird["spec"]["containers"].append({"name": "", "image": ""})
    weird["spec"]["volumes"].append({"name": "imagenet", "emptyDir": {}})
    weird["spec"]["volumes"][0]["name"] = "data/~set"
    weird["spec"]["containers"][0]["volumeMounts"][0]["name"] = "data/~set"
    write(a, "patch-weird-names.json", review(weird))
    odd = json.loads(json.dumps(SCENARIOS["everything"]))
    odd["spec"]["containers"] = {"not": "a list"}
    odd["spec"]["volumes"] = [None, 1, "x", {"persistentVolumeClaim": None}, {"name": 5, "persistentVolumeClaim": {"claimName": ["imagenet"]}}]
    odd["metadata"]["labels"]["extra"] = 7
    write(a, "pod-wrong-types.json", review(odd))
    odd2 = json.loads(json.dumps(SCENARIOS["everything"]))
    odd2["spec"]["initContainers"] = None
    odd2["spec"]["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": "x"}}
    odd2["metadata"]["annotations"]["locus.dev/datasets"] = ",,/,ml/,/x,a/b/c,features,features, features ,ML/Features"
    write(a, "pod-odd-fields.json", review(odd2))
    write(a, "object-array.json", json.dumps(review(None)).replace('"object": null', '"object": []'))
    write(a, "uid-not-string.json", json.dumps(review(None)).replace('"uid": "705ab4f5-6393-11e8-b7cc-42010a800002"', '"uid": 7'))

    e = os.path.join(NASTY, "extender")
    write(e, "truncated.json", b'{"Pod":{"metadata":{"name":"p"}},"NodeNames":["node-a","no')
    write(e, "empty.json", b"")
    write(e, "names-duplicates-weird.json", {"Pod": SCENARIOS["everything"], "NodeNames": ["node-a", "node-a", 'q"uote', "new\nline", "\u00e9\U0001F600", "\\", "node-c"]})
    write(e, "names-empty-name.json", {"Pod": SCENARIOS["everything"], "NodeNames": ["node-a", ""]})
    write(e, "names-not-strings.json", {"Pod": SCENARIOS["everything"], "NodeNames": ["node-a", 5]})
    write(e, "nodelist-no-name.json", {"Pod": SCENARIOS["everything"], "Nodes": {"items": [{"metadata": {}}]}})
    write(e, "nodelist-items-null.json", {"Pod": SCENARIOS["everything"], "Nodes": {"items": None}})
    write(e, "nodelist-not-objects.json", {"Pod": SCENARIOS["everything"], "Nodes": {"items": [1, "x", None]}})
    write(e, "nodelist-duplicate-names.json", {"Pod": SCENARIOS["vineyard-annotation"], "Nodes": {"items": [EXAMPLE_NODES[2], EXAMPLE_NODES[0], EXAMPLE_NODES[2]]}})
    write(e, "nodelist-weird-labels.json", {"Pod": SCENARIOS["everything"], "Nodes": {"items": [
        node('we"ird', {"fluid.io/s-ml-features": "true", "fluid.io/exclusive": "ml_other", "x": None}),
        node("n\u0000ul", {"fluid.io/s-ml-features": 1})]}})
    write(e, "pod-not-object.json", {"Pod": [], "NodeNames": ["node-a"]})
    write(e, "neither.json", {"Pod": {}})
    dup = '{"Pod":{},"Nodes":{"items":[{"metadata":{"name":"evil"}}]},"Nodes":{"items":[{"metadata":{"name":"node-a"}}]}}'
    write(e, "finding-2-nodelist-duplicate-keys.json", dup)
    write(e, "mixed-case-both.json", '{"POD":{"metadata":{"annotations":{"locus.dev/datasets":"features"}}},"nodes":{"ITEMS":[{"metadata":{"name":"node-c"}}]},"NodeNames":["node-a"]}')

    j = os.path.join(NASTY, "json")
    write(j, "deep-256.json", b"[" * 256 + b"]" * 256)
    write(j, "deep-257.json", b"[" * 257 + b"]" * 257)
    write(j, "deep-objects.json", b'{"a":' * 200 + b"1" + b"}" * 200)
    write(j, "numbers.json", "[1e400,-1e400,1e-400,99999999999999999999,-9223372036854775809,0.0,-0.0,1E+2,1e15,1e16,123456789012345678]")
    write(j, "bad-numbers.json", "[01]")
    write(j, "surrogates.json", '["\\ud83d\\ude00","\\udbff\\udfff"]')
    write(j, "lone-low-surrogate.json", '["\\udc00"]')
    write(j, "invalid-utf8.json", b'["\xc3\x28"]')
    write(j, "overlong-utf8.json", b'["\xc0\xaf"]')
    write(j, "control-chars.json", b'["a\x01b"]')
    write(j, "duplicate-keys.json", '{"a":1,"a":[2],"A":3}')
    write(j, "trailing-garbage.json", "{} x")
    write(j, "nodes-lazy-dupes.json", '{"Nodes":{"items":[{"metadata":{"name":"a"}}]},"nodes":{"Items":[1,2],"items":[3]}}')
    write(j, "whitespace-only.json", " \n\t\r ")


admission_seeds()
extender_seeds()
json_seeds()
nasty()
print("seeds written")
