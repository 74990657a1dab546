package kcps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Job statuses of queryAsyncJobResult.
const (
	JobPending = 0
	JobSuccess = 1
	JobFailure = 2
)

// JobResult is an answer of queryAsyncJobResult / queryExAsyncJobResult.
type JobResult struct {
	JobID      string
	Status     int
	ResultCode int
	// Result is jobresult: the object ({"snapshot":{...}}) on success, the
	// error ({"errorcode":530,"errortext":...}) on failure.
	Result  json.RawMessage
	Created time.Time
}

// startJob sends an asynchronous command once and returns its ids.
func (c *Client) startJob(ctx context.Context, command string, params url.Values, ex bool) (Job, error) {
	raw, err := c.Call(ctx, command, params, Unsafe)
	if err != nil {
		return Job{}, err
	}
	var w struct {
		ID    flexString `json:"id"`
		JobID flexString `json:"jobid"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Job{}, fmt.Errorf("kcps %s: %w", command, err)
	}
	if w.JobID == "" {
		return Job{}, fmt.Errorf("kcps %s: answer has no jobid: %.200s", command, raw)
	}
	return Job{Command: command, ID: string(w.ID), JobID: string(w.JobID), Ex: ex}, nil
}

// QueryJob asks once for the state of a job (retried on transient errors).
func (c *Client) QueryJob(ctx context.Context, jobID string, ex bool) (JobResult, error) {
	cmd := "queryAsyncJobResult"
	if ex {
		cmd = "queryExAsyncJobResult"
	}
	raw, err := c.Call(ctx, cmd, url.Values{"jobid": {jobID}}, Safe)
	if err != nil {
		return JobResult{}, err
	}
	var w struct {
		JobID      flexString      `json:"jobid"`
		Status     flexInt         `json:"jobstatus"`
		ResultCode flexInt         `json:"jobresultcode"`
		Result     json.RawMessage `json:"jobresult"`
		Created    flexTime        `json:"created"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return JobResult{}, fmt.Errorf("kcps %s: %w", cmd, err)
	}
	if w.JobID == "" {
		w.JobID = flexString(jobID)
	}
	return JobResult{JobID: string(w.JobID), Status: int(w.Status), ResultCode: int(w.ResultCode),
		Result: w.Result, Created: timeOf(w.Created)}, nil
}

// WaitOptions tunes WaitJob.
type WaitOptions struct {
	// Started is when the job began (zero: now). An adopted job that has
	// been running for an hour is polled at the long interval at once.
	Started time.Time
	// OnPoll, when set, sees every answer.
	OnPoll func(JobResult)
}

// maxPollFailures bounds how many consecutive polls may fail (each already
// retried per RetryPolicy) before WaitJob gives up.
const maxPollFailures = 20

// WaitJob polls job until it ends or ctx is done. There is no timeout of
// its own: the caller's context decides. On success it returns jobresult;
// on failure a *JobError.
func (c *Client) WaitJob(ctx context.Context, job Job, opts WaitOptions) (json.RawMessage, error) {
	start := opts.Started
	if start.IsZero() {
		start = c.clock.Now()
	}
	var prev time.Duration
	failures := 0
	for {
		d := c.poll.Next(prev, c.clock.Now().Sub(start), c.rand())
		if err := c.clock.Sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("kcps %s: waiting for job %s: %w", job.Command, job.JobID, err)
		}
		prev = d
		r, err := c.QueryJob(ctx, job.JobID, job.Ex)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("kcps %s: waiting for job %s: %w", job.Command, job.JobID, ctx.Err())
			}
			failures++
			if !transient(err) || failures >= maxPollFailures {
				return nil, err
			}
			continue
		}
		failures = 0
		if opts.OnPoll != nil {
			opts.OnPoll(r)
		}
		switch r.Status {
		case JobPending:
			continue
		case JobSuccess:
			return r.Result, nil
		default:
			je := &JobError{Command: job.Command, JobID: job.JobID, ErrorCode: r.ResultCode}
			var w struct {
				ErrorCode flexInt    `json:"errorcode"`
				ErrorText flexString `json:"errortext"`
			}
			if json.Unmarshal(r.Result, &w) == nil {
				if w.ErrorCode != 0 {
					je.ErrorCode = int(w.ErrorCode)
				}
				je.ErrorText = string(w.ErrorText)
			}
			if je.ErrorText == "" {
				je.ErrorText = string(r.Result)
			}
			return nil, je
		}
	}
}

// waitInto waits for job and decodes jobresult[key] into out (may be nil).
func (c *Client) waitInto(ctx context.Context, job Job, key string, out any) error {
	raw, err := c.WaitJob(ctx, job, WaitOptions{})
	if err != nil {
		return err
	}
	if out == nil || key == "" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("kcps %s: job result: %w", job.Command, err)
	}
	v, ok := m[key]
	if !ok {
		return fmt.Errorf("kcps %s: job result has no %q: %.200s", job.Command, key, raw)
	}
	return json.Unmarshal(v, out)
}

// IsJobError reports a job that ended in failure.
func IsJobError(err error) bool {
	var je *JobError
	return errors.As(err, &je)
}
