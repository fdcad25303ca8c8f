/** Typed calls of the Skyclaw API, used by the CLI and the host daemon. */
import type {
  AppendOutputBody,
  AppendOutputResponse,
  ClaimResponse,
  CompleteJobsResponse,
  HostCompletion,
  ClusterState,
  CompleteBody,
  CompleteJobsBody,
  EnqueueBody,
  HeartbeatBody,
  HeartbeatResponse,
  Health,
  Host,
  HostList,
  Job,
  JobList,
  JobState,
  OutputPage,
  RegisterHostBody,
  RegisterHostResponse,
  RenewResponse,
  RevokeHostResponse,
} from "../api";
import type { ClientConfig } from "../config";
import { HttpClient, type HttpClientOptions } from "./http";

const id = (value: string) => encodeURIComponent(value);

export class SkyclawClient {
  readonly http: HttpClient;

  constructor(config: ClientConfig, options?: HttpClientOptions) {
    this.http = new HttpClient(config, options);
  }

  health(): Promise<Health> {
    return this.http.request("GET", "/health", { retryBudgetMs: 0 });
  }

  state(): Promise<ClusterState> {
    return this.http.request("GET", "/v1/state");
  }

  enqueue(body: EnqueueBody, idempotencyKey?: string): Promise<Job> {
    return this.http.request("POST", "/v1/jobs", { body, ...(idempotencyKey !== undefined && { idempotencyKey }) });
  }

  getJob(jobId: string): Promise<Job> {
    return this.http.request("GET", `/v1/jobs/${id(jobId)}`);
  }

  listJobs(query: { state?: JobState; limit?: number; cursor?: string }): Promise<JobList> {
    return this.http.request("GET", "/v1/jobs", { query });
  }

  cancelJob(jobId: string, reason?: string): Promise<Job> {
    return this.http.request("POST", `/v1/jobs/${id(jobId)}/cancel`, { body: reason === undefined ? {} : { reason } });
  }

  /** Long-polls for output after `after` or a state change, for up to `waitMs`. */
  jobOutput(jobId: string, after: number, waitMs: number, signal?: AbortSignal): Promise<OutputPage> {
    return this.http.request("GET", `/v1/jobs/${id(jobId)}/output`, {
      query: { after, waitMs },
      longPollMs: waitMs,
      ...(signal !== undefined && { signal }),
    });
  }

  listHosts(): Promise<HostList> {
    return this.http.request("GET", "/v1/hosts");
  }

  drainHost(hostId: string): Promise<Host> {
    return this.http.request("POST", `/v1/hosts/${id(hostId)}/drain`);
  }

  revokeHost(hostId: string): Promise<RevokeHostResponse> {
    return this.http.request("POST", `/v1/hosts/${id(hostId)}/revoke`);
  }

  register(body: RegisterHostBody): Promise<RegisterHostResponse> {
    return this.http.request("POST", "/v1/hosts/register", { body });
  }

  heartbeat(hostId: string, body: HeartbeatBody): Promise<HeartbeatResponse> {
    return this.http.request("POST", `/v1/hosts/${id(hostId)}/heartbeat`, { body });
  }

  claim(hostId: string, slots: number, waitMs: number, signal?: AbortSignal): Promise<ClaimResponse> {
    return this.http.request("POST", `/v1/hosts/${id(hostId)}/claim`, {
      body: { slots, waitMs },
      longPollMs: waitMs,
      ...(signal !== undefined && { signal }),
    });
  }

  renew(jobId: string, hostId: string, attempt: number): Promise<RenewResponse> {
    return this.http.request("POST", `/v1/jobs/${id(jobId)}/renew`, { body: { hostId, attempt } });
  }

  appendOutput(jobId: string, body: AppendOutputBody): Promise<AppendOutputResponse> {
    return this.http.request("POST", `/v1/jobs/${id(jobId)}/output`, { body });
  }

  complete(jobId: string, body: CompleteBody): Promise<Job> {
    return this.http.request("POST", `/v1/jobs/${id(jobId)}/complete`, { body });
  }

  /**
   * Several finished jobs of one host in one request; each is answered (or refused) on its own.
   * With `claimSlots`, the same request claims up to that many jobs for the freed slots.
   */
  completeJobs(hostId: string, completions: HostCompletion[], claimSlots = 0): Promise<CompleteJobsResponse> {
    const body: CompleteJobsBody = claimSlots > 0 ? { completions, claimSlots } : { completions };
    return this.http.request("POST", `/v1/hosts/${id(hostId)}/complete`, { body });
  }
}
