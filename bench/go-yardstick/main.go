// A yardstick for scripts/bench-webhook, not part of Locus: the least a Go admission webhook
// does per request, over the same TLS and HTTP/1.1 keep-alive. It decodes the AdmissionReview
// with encoding/json (pod included), sets one annotation, marshals the pod again and answers a
// base64 JSONPatch. A real Go webhook (Fluid's) does all of this and more (typed Pod decoding,
// dataset lookups, a patch computed by diffing the two pods), so Locus being ahead of this
// yardstick on the same machine and day means being ahead of such a webhook.
//
// Usage: go run . -cert tls.crt -key tls.key -addr 127.0.0.1:18445
package main

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
)

type review struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Request    *reviewRequest  `json:"request,omitempty"`
	Response   *reviewResponse `json:"response,omitempty"`
}

type reviewRequest struct {
	UID       string                 `json:"uid"`
	Namespace string                 `json:"namespace"`
	Operation string                 `json:"operation"`
	Object    map[string]interface{} `json:"object"`
}

type reviewResponse struct {
	UID       string `json:"uid"`
	Allowed   bool   `json:"allowed"`
	PatchType string `json:"patchType,omitempty"`
	Patch     string `json:"patch,omitempty"`
}

func mutate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 3<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in review
	if err := json.Unmarshal(body, &in); err != nil || in.Request == nil {
		http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	pod := in.Request.Object
	meta, _ := pod["metadata"].(map[string]interface{})
	if meta == nil {
		meta = map[string]interface{}{}
		pod["metadata"] = meta
	}
	annotations, _ := meta["annotations"].(map[string]interface{})
	if annotations == nil {
		annotations = map[string]interface{}{}
		meta["annotations"] = annotations
	}
	annotations["locus.dev/injected"] = "yardstick"
	mutated, err := json.Marshal(pod)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	patch, _ := json.Marshal([]map[string]interface{}{{"op": "add", "path": "/metadata/annotations", "value": annotations}})
	_ = mutated
	out := review{APIVersion: in.APIVersion, Kind: "AdmissionReview", Response: &reviewResponse{
		UID: in.Request.UID, Allowed: true, PatchType: "JSONPatch", Patch: base64.StdEncoding.EncodeToString(patch)}}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func main() {
	cert := flag.String("cert", "tls.crt", "serving certificate (PEM)")
	key := flag.String("key", "tls.key", "serving key (PEM)")
	addr := flag.String("addr", "127.0.0.1:18445", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/mutate", mutate)
	server := &http.Server{Addr: *addr, Handler: mux}
	// HTTP/1.1 only, as kube-apiserver mostly talks to webhooks, and as Locus is measured.
	server.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	log.Fatal(server.ListenAndServeTLS(*cert, *key))
}
