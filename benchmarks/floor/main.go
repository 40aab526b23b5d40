// The floor: the least an extender can do per call, in Go with the standard library only, to measure
// the Python extender against (python -m benchmarks, section floor).
//
// It decodes each ExtenderArgs into typed structs (the pod's annotations, the candidates' names, and for
// Node objects their addresses, as our extender reads them), looks the pod's scores up in a table
// computed beforehand (-scores: {"<paths annotation>": {"<node>": score}}), and encodes the same answer
// ours gives: the HostPriorityList of the candidates scoring above 0, in candidate order, or for /filter
// every candidate, echoed in the form it came. No index, no placement, no scoring: what is left is
// HTTP, JSON decoding and JSON encoding.
//
//	floor -bind 127.0.0.1:PORT -scores scores.json    serve /prioritize, /filter, /healthz
//	floor -decode body.json -count 20                 time decoding a body into the typed args
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"time"
)

const pathsAnnotation = "alluxio-locality.io/paths"

type pod struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

type address struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

type node struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Status struct {
		Addresses []address `json:"addresses"`
	} `json:"status"`
}

// prioritizeArgs is ExtenderArgs with the Node objects decoded as far as an extender reads them.
type prioritizeArgs struct {
	Pod       pod
	Nodes     *struct{ Items []node }
	NodeNames *[]string
}

// filterArgs keeps each Node object's bytes, to echo it.
type filterArgs struct {
	Pod       pod
	Nodes     *struct{ Items []json.RawMessage }
	NodeNames *[]string
}

type hostPriority struct {
	Host  string
	Score int64
}

type nodeList struct {
	Metadata struct{}          `json:"metadata"`
	Items    []json.RawMessage `json:"items"`
}

type filterResult struct {
	Nodes                      *nodeList
	NodeNames                  *[]string
	FailedNodes                map[string]string
	FailedAndUnresolvableNodes map[string]string
	Error                      string
}

func main() {
	bind := flag.String("bind", "", "address to serve on")
	scoresFile := flag.String("scores", "", "JSON of scores by paths annotation, then by node")
	decodeFile := flag.String("decode", "", "time decoding this ExtenderArgs body instead of serving")
	count := flag.Int("count", 20, "decodes to time with -decode")
	flag.Parse()
	if *decodeFile != "" {
		timeDecode(*decodeFile, *count)
		return
	}
	scores := map[string]map[string]int64{}
	raw, err := os.ReadFile(*scoresFile)
	if err == nil {
		err = json.Unmarshal(raw, &scores)
	}
	if err != nil {
		log.Fatalf("-scores: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /prioritize", func(w http.ResponseWriter, r *http.Request) {
		var args prioritizeArgs
		if err := json.NewDecoder(r.Body).Decode(&args); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"Error": err.Error()})
			return
		}
		table := scores[args.Pod.Metadata.Annotations[pathsAnnotation]]
		answer := []hostPriority{}
		for _, name := range names(&args) {
			if score := table[name]; score > 0 {
				answer = append(answer, hostPriority{name, score})
			}
		}
		reply(w, http.StatusOK, answer)
	})
	mux.HandleFunc("POST /filter", func(w http.ResponseWriter, r *http.Request) {
		var args filterArgs
		if err := json.NewDecoder(r.Body).Decode(&args); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"Error": err.Error()})
			return
		}
		result := filterResult{NodeNames: args.NodeNames, FailedNodes: map[string]string{},
			FailedAndUnresolvableNodes: map[string]string{}}
		if args.Nodes != nil {
			result.Nodes = &nodeList{Items: args.Nodes.Items}
		}
		reply(w, http.StatusOK, result)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	server := &http.Server{Addr: *bind, Handler: mux, IdleTimeout: 120 * time.Second}
	log.Fatal(server.ListenAndServe())
}

func names(args *prioritizeArgs) []string {
	if args.NodeNames != nil {
		return *args.NodeNames
	}
	if args.Nodes == nil {
		return nil
	}
	out := make([]string, len(args.Nodes.Items))
	for i := range args.Nodes.Items {
		out[i] = args.Nodes.Items[i].Metadata.Name
	}
	return out
}

func reply(w http.ResponseWriter, status int, body any) {
	encoded, err := json.Marshal(body)
	if err != nil {
		status, encoded = http.StatusInternalServerError, []byte(`{"Error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(encoded)))
	w.WriteHeader(status)
	w.Write(encoded)
}

// timeDecode prints {"n", "p50_ms", "p99_ms", "min_ms", "nodes", "body_bytes"} for decoding the body into
// prioritizeArgs, the typed decode an extender in Go does for every call: with a json.Decoder, as the
// floor's handler does (json.Unmarshal scans the whole input once more first, to validate it).
func timeDecode(file string, count int) {
	body, err := os.ReadFile(file)
	if err != nil {
		log.Fatal(err)
	}
	times := make([]float64, 0, count)
	nodes := 0
	for i := 0; i < count; i++ {
		var args prioritizeArgs
		start := time.Now()
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&args); err != nil {
			log.Fatal(err)
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
		nodes = len(names(&args))
	}
	sort.Float64s(times)
	rank := func(q float64) float64 {
		i := int(q*float64(len(times))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		return times[i]
	}
	out, _ := json.Marshal(map[string]any{"n": count, "p50_ms": rank(0.5), "p99_ms": rank(0.99),
		"min_ms": times[0], "nodes": nodes, "body_bytes": len(body)})
	fmt.Println(string(out))
}
