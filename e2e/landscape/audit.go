package landscape

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// auditPolicy records every mutating request at Metadata level; reads are not logged.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

// AuditEvent is the part of a Kubernetes audit event the tests look at.
type AuditEvent struct {
	Verb  string                    `json:"verb"`
	Stage string                    `json:"stage"`
	User  struct{ Username string } `json:"user"`
	// SourceIPs are the client's addresses, as the API server saw them: a Pod's IP
	// for a request from a Pod of a node (the landscape's network does not
	// masquerade).
	SourceIPs []string `json:"sourceIPs"`
	ObjectRef struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus struct{ Code int } `json:"responseStatus"`
	// RequestReceived is when the API server began to handle the request (after TLS
	// and HTTP/2 framing, before authentication and priority and fairness).
	RequestReceived time.Time `json:"requestReceivedTimestamp"`
	StageTimestamp  time.Time `json:"stageTimestamp"`
}

func (e AuditEvent) String() string {
	return fmt.Sprintf("%s %s %s/%s/%s %s/%s (%d)", e.User.Username, e.Verb, e.ObjectRef.APIGroup, e.ObjectRef.Resource, e.ObjectRef.Subresource, e.ObjectRef.Namespace, e.ObjectRef.Name, e.ResponseStatus.Code)
}

func writeAuditPolicy(dir string) (policy, log string, err error) {
	policy = filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return "", "", err
	}
	return policy, filepath.Join(dir, "audit.log"), nil
}

// AuditEvents reads the mutating requests the API server completed since since, by
// user (all users if user is empty).
func (c *Cluster) AuditEvents(user string, since time.Time) ([]AuditEvent, error) {
	events, err := ReadAuditLog(c.AuditLogPath)
	if err != nil {
		return nil, err
	}
	out := events[:0]
	for _, e := range events {
		if e.StageTimestamp.Before(since) || (user != "" && e.User.Username != user) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// ReadAuditLog reads the completed requests of an audit log (Cluster.AuditLogPath, also
// of a landscape that is no longer running).
func ReadAuditLog(path string) ([]AuditEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []AuditEvent
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		var e AuditEvent
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			continue // a line being written
		}
		if e.Stage == "ResponseComplete" {
			out = append(out, e)
		}
	}
	return out, s.Err()
}
