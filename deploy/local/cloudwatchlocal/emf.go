package cloudwatchlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EMF's limits, from the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
const (
	emfMaxDimensions = 30  // per dimension set
	emfMaxMetrics    = 100 // per directive
	emfMaxValues     = 100 // per metric value array
	emfMaxNameLen    = 255 // a namespace, metric name or dimension name
	emfMaxValueLen   = 1024
)

type emfDocument struct {
	AWS *struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

// ErrNotEMF is PutEMF's answer for a line that is no EMF document.
var ErrNotEMF = errors.New("not an EMF document")

// PutEMF extracts the metrics of one log event in CloudWatch Embedded Metric
// Format, as CloudWatch Logs does: every directive's metrics in its
// namespace, once for each of its dimension sets, with the dimension
// values taken from the event's members. It returns how many values it
// stored. A line without "_aws" is ErrNotEMF; a document that breaks the
// specification (a referenced member missing or of the wrong type, a limit
// exceeded, no timestamp) is an error and none of its metrics is stored,
// as CloudWatch Logs keeps the event but extracts nothing from it.
func (s *Store) PutEMF(line []byte) (int, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' || !bytes.Contains(line, []byte(`"_aws"`)) {
		return 0, ErrNotEMF
	}
	var doc emfDocument
	if err := json.Unmarshal(line, &doc); err != nil || doc.AWS == nil {
		return 0, ErrNotEMF
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return 0, ErrNotEMF
	}
	puts, err := extract(doc, root)
	if err != nil {
		s.mu.Lock()
		s.invalid++
		first := s.invalid == 1
		s.mu.Unlock()
		if first {
			s.log.Warn("cloudwatchlocal: an EMF document breaks the specification; its metrics are not extracted (further ones are counted, not logged)", "error", err)
		}
		return 0, err
	}
	n := 0
	for _, p := range puts {
		s.Put(p.metric, p.unit, p.at, p.values...)
		n += len(p.values)
	}
	return n, nil
}

// InvalidEMF counts EMF documents whose metrics were not extracted, as
// CloudWatch's AWS/Logs EMFValidationErrors would.
func (s *Store) InvalidEMF() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invalid
}

type put struct {
	metric Metric
	unit   string
	at     time.Time
	values []float64
}

func extract(doc emfDocument, root map[string]json.RawMessage) ([]put, error) {
	if doc.AWS.Timestamp == nil {
		return nil, errors.New("_aws.Timestamp is required")
	}
	at := time.UnixMilli(*doc.AWS.Timestamp)
	if doc.AWS.CloudWatchMetrics == nil {
		return nil, errors.New("_aws.CloudWatchMetrics is required")
	}
	var out []put
	for i, d := range doc.AWS.CloudWatchMetrics {
		if d.Namespace == "" || len(d.Namespace) > emfMaxNameLen {
			return nil, fmt.Errorf("CloudWatchMetrics[%d].Namespace must be 1 to %d characters", i, emfMaxNameLen)
		}
		if len(d.Metrics) > emfMaxMetrics {
			return nil, fmt.Errorf("CloudWatchMetrics[%d] has %d metrics; at most %d", i, len(d.Metrics), emfMaxMetrics)
		}
		sets := d.Dimensions
		if d.Dimensions == nil {
			return nil, fmt.Errorf("CloudWatchMetrics[%d].Dimensions is required (an empty set, [[]], means no dimensions)", i)
		}
		for _, set := range sets {
			if len(set) > emfMaxDimensions {
				return nil, fmt.Errorf("CloudWatchMetrics[%d] has a dimension set of %d; at most %d", i, len(set), emfMaxDimensions)
			}
			dims := make([]Dimension, 0, len(set))
			for _, name := range set {
				v, err := stringMember(root, name)
				if err != nil {
					return nil, fmt.Errorf("CloudWatchMetrics[%d] dimension %q: %w", i, name, err)
				}
				dims = append(dims, Dimension{Name: name, Value: v})
			}
			for _, m := range d.Metrics {
				if m.Name == "" || len(m.Name) > emfMaxNameLen {
					return nil, fmt.Errorf("CloudWatchMetrics[%d]: a metric name must be 1 to %d characters", i, emfMaxNameLen)
				}
				values, err := numberMember(root, m.Name)
				if err != nil {
					return nil, fmt.Errorf("CloudWatchMetrics[%d] metric %q: %w", i, m.Name, err)
				}
				out = append(out, put{Metric{Namespace: d.Namespace, Name: m.Name, Dimensions: dims}, m.Unit, at, values})
			}
		}
	}
	return out, nil
}

func stringMember(root map[string]json.RawMessage, name string) (string, error) {
	raw, ok := root[name]
	if !ok {
		return "", errors.New("the root has no such member")
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", errors.New("a dimension value must be a string")
	}
	if v == "" || len(v) > emfMaxValueLen {
		return "", fmt.Errorf("a dimension value must be 1 to %d characters", emfMaxValueLen)
	}
	return v, nil
}

func numberMember(root map[string]json.RawMessage, name string) ([]float64, error) {
	raw, ok := root[name]
	if !ok {
		return nil, errors.New("the root has no such member")
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("a metric value must be a number or an array of numbers")
	}
	if len(many) > emfMaxValues {
		return nil, fmt.Errorf("%d values; at most %d", len(many), emfMaxValues)
	}
	return many, nil
}
