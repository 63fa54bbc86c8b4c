/**
 * Which Ollama hosts Unlearn accepts, and which of them keep the conversation on this machine.
 * Forget targets are often exactly the things a user does not want to leave the machine, so the
 * extension warns when the host is not loopback; this module only decides, it never warns.
 */

const DEFAULT_OLLAMA_PORT = 11434;
export const DEFAULT_OLLAMA_HOST = `http://127.0.0.1:${DEFAULT_OLLAMA_PORT}`;

export interface OllamaHost {
  /** Normalised `scheme://host:port[/path]`, no trailing slash: what the client should be given. */
  readonly url: string;
  readonly protocol: 'http:' | 'https:';
  /** Without brackets for IPv6 (`::1`). */
  readonly hostname: string;
  readonly port: number;
}

export class InvalidHostError extends Error {
  override readonly name = 'InvalidHostError';
}

/**
 * Parses a host the way people write it in settings and `OLLAMA_HOST`: `http://127.0.0.1:11434`,
 * `localhost:11434`, `https://ollama.example`, `[::1]`. A missing scheme means http; a missing
 * port means 11434, except for https where it means 443, because TLS in front of Ollama is
 * always a reverse proxy on the standard port.
 * @throws InvalidHostError with a message that says what to change.
 */
export function parseOllamaHost(input: string): OllamaHost {
  const raw = input.trim();
  if (!raw) throw new InvalidHostError('The Ollama host is empty. Use a URL such as http://127.0.0.1:11434.');
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  // "localhost:11434" would parse as scheme "localhost:", so only `://` counts as a scheme.
  const withScheme = schemeMatch ? raw : `http://${raw}`;
  const scheme = schemeMatch?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new InvalidHostError(
      `The Ollama host "${redactCredentials(raw)}" uses the scheme "${scheme}:"; only http:// and https:// are supported.`,
    );
  }
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidHostError(`The Ollama host "${redactCredentials(raw)}" is not a valid URL. Use a URL such as http://127.0.0.1:11434.`);
  }
  if (url.username || url.password) {
    // The message must not repeat the password: it ends up in notifications and logs.
    throw new InvalidHostError(
      `The Ollama host "${redactCredentials(raw)}" contains credentials. Remove "user:password@" from the URL: credentials in a URL leak into logs and are sent in clear over http.`,
    );
  }
  if (!url.hostname) throw new InvalidHostError(`The Ollama host "${raw}" has no host name. Use a URL such as http://127.0.0.1:11434.`);
  if (url.search || url.hash) {
    throw new InvalidHostError(`The Ollama host "${raw}" has a query or fragment; give only scheme, host, port and an optional path.`);
  }
  const protocol = url.protocol as 'http:' | 'https:';
  // URL drops a port equal to the scheme's default (http://h:80 → port ""), so look at what was written.
  const authority = withScheme
    .slice(withScheme.indexOf('//') + 2)
    .split('/')[0]!
    .replace(/^.*@/, '');
  const written = /:(\d+)$/.exec(authority)?.[1];
  const port = url.port ? Number(url.port) : written !== undefined ? Number(written) : protocol === 'https:' ? 443 : DEFAULT_OLLAMA_PORT;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const hostPart = hostname.includes(':') ? `[${hostname}]` : hostname;
  const path = url.pathname.replace(/\/+$/, '');
  return { url: `${protocol}//${hostPart}:${port}${path}`, protocol, hostname, port };
}

/** Like `parseOllamaHost`, for settings validation: the problem as a message instead of a throw. */
export function checkOllamaHost(input: string): { ok: true; host: OllamaHost } | { ok: false; message: string } {
  try {
    return { ok: true, host: parseOllamaHost(input) };
  } catch (error) {
    if (error instanceof InvalidHostError) return { ok: false, message: error.message };
    throw error;
  }
}

/**
 * True when the host resolves to this machine without DNS: 127.0.0.0/8, ::1 (also IPv4-mapped),
 * `localhost` and `*.localhost` (RFC 6761). Anything else, including 0.0.0.0 and LAN addresses,
 * counts as remote. An invalid host is not loopback.
 */
export function isLoopbackHost(host: string | OllamaHost): boolean {
  let hostname: string;
  if (typeof host === 'string') {
    const checked = checkOllamaHost(host);
    if (!checked.ok) return false;
    hostname = checked.host.hostname;
  } else {
    hostname = host.hostname;
  }
  hostname = hostname.toLowerCase().replace(/\.$/, '');
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)) return hostname.split('.').every((part) => Number(part) <= 255);
  // WHATWG URL parsing already normalises IPv6 (e.g. 0:0:0:0:0:0:0:1 → ::1, ::ffff:127.0.0.1 → ::ffff:7f00:1).
  if (hostname === '::1') return true;
  const mapped = /^::ffff:7f([0-9a-f]{2}):([0-9a-f]{1,4})$/.exec(hostname);
  return mapped !== null;
}

function redactCredentials(raw: string): string {
  return raw.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/@]*@/i, '$1***@');
}
