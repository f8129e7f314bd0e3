package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics. They hold counts, route
// templates and status codes only: no identifier, no statement content.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ingested prometheus.Counter
	handler  http.Handler
}

// newMetrics registers the server's metrics with reg; nil reg: none.
func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custodia_http_requests_total", Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "custodia_http_request_duration_seconds", Help: "Time to answer HTTP requests, by method, route template and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custodia_statements_ingested_total", Help: "Statements accepted by POST or PUT /xapi/statements (a PUT of one already stored counts too).",
		}),
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}
	reg.MustRegister(m.requests, m.latency, m.ingested)
	return m
}

// observe counts one answered request.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	m.latency.WithLabelValues(method, route, code).Observe(d.Seconds())
}

// stored counts n statements stored.
func (m *metrics) stored(n int) {
	if m != nil {
		m.ingested.Add(float64(n))
	}
}
