// Shapes of the admin API the admin pages read.

export interface Node {
  id: number;
  uuid: string;
  name: string;
  description: string;
  fqdn: string;
  scheme: 'http' | 'https';
  behind_proxy: boolean;
  daemon_port: number;
  sftp_port: number;
  data_dir: string;
  memory_mb: number;
  memory_overallocate: number;
  disk_mb: number;
  disk_overallocate: number;
  upload_size_mb: number;
  maintenance: boolean;
  created_at: string;
}

export interface NodeHealth {
  reachable: boolean;
  latency_ms: number | null;
  system: {
    version?: string;
    kernel_version?: string;
    cpu_count?: number;
    architecture?: string;
    container_engine?: { name?: string; version?: string };
  } | null;
  error: string | null;
}

export interface NodeAllocation {
  id: number;
  ip: string;
  alias: string | null;
  port: number;
  server_id: number | null;
  notes: string | null;
}

export interface EggRecord {
  id: number;
  uuid: string;
  nest_id: number;
  nest: string;
  name: string;
  author: string;
  description: string;
  source_format: string;
  updated_at: string;
}

export interface EggVariable {
  name: string;
  description: string;
  env_variable: string;
  default_value: string;
  user_viewable: boolean;
  user_editable: boolean;
  rules: string;
}

export interface EggDefinition {
  name: string;
  startup: string;
  docker_images: [string, string][];
  variables: EggVariable[];
  features: string[];
}

export interface User {
  id: number;
  uuid: string;
  username: string;
  email: string;
  admin: boolean;
  language: string;
  role_id: number | null;
  created_at: string;
}

export interface Role {
  id: number;
  name: string;
  description: string;
  permissions: string[];
}

export interface AdminServer {
  id: number;
  uuid: string;
  short_id: string;
  name: string;
  owner_id: number;
  node_name: string;
  egg_name: string;
  ip: string;
  ip_alias: string | null;
  port: number;
  memory_mb: number;
  disk_mb: number;
  cpu_percent: number;
  status: string | null;
}

export interface Plugin {
  id: string;
  version: string;
  runtime: 'wasm' | 'native';
  state: 'enabled' | 'disabled' | 'failed';
  error?: string;
  name: string | null;
  description: string | null;
  consent: { grant: string; allows: string }[];
  granted: Record<string, unknown>;
  trusted_code: boolean;
  runs_on_nodes: boolean;
  installed_at: string;
}

/** `database`, `subscribe:user.*`, `http:host` grants as the enable call takes them. */
export function grantsFrom(chosen: string[]): Record<string, unknown> {
  const grants: Record<string, unknown> & { subscribe: string[]; http: string[] } = {
    subscribe: [],
    http: [],
  };
  for (const grant of chosen) {
    if (grant.startsWith('subscribe:')) {
      grants.subscribe.push(grant.slice('subscribe:'.length));
    } else if (grant.startsWith('http:')) {
      grants.http.push(grant.slice('http:'.length));
    } else {
      grants[grant] = true;
    }
  }
  return grants;
}
