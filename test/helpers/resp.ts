// A bare RESP2 client for tests that play a hostile app: it sends exactly the argv given, reads
// one reply per command, and leaves the connection's state to the server (no client library that
// tracks pub/sub mode, re-authenticates or retries on its own).
import { connect, type Socket } from 'node:net';

export type Reply = string | number | null | Reply[] | RespError;
export class RespError extends Error {}

export class Resp {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.waiting?.(); });
    socket.on('close', () => { this.closed = true; this.waiting?.(); });
    socket.on('error', () => { this.closed = true; }); // a closed connection is what some tests wait for
  }

  static async open(host: string, port: number): Promise<Resp> {
    const s = connect({ host, port });
    await new Promise<void>((res, rej) => { s.once('connect', res); s.once('error', rej); });
    return new Resp(s);
  }

  /** Opens a connection authenticated as user/password; rejects with the server's error. */
  static async as(host: string, port: number, user: string, password: string): Promise<Resp> {
    const r = await Resp.open(host, port);
    const ok = await r.call('AUTH', user, password);
    if (ok instanceof RespError) { r.close(); throw ok; }
    return r;
  }

  send(...argv: string[]): void {
    this.socket.write(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  }

  /** Sends a command and reads its reply (an error reply is returned, not thrown). */
  async call(...argv: string[]): Promise<Reply> {
    this.send(...argv);
    return this.read();
  }

  async read(timeoutMs = 10_000): Promise<Reply> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parse(this.buf, 0);
      if (parsed) { this.buf = this.buf.subarray(parsed.next); return parsed.value; }
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > end) throw new Error('timed out waiting for a reply');
      await new Promise<void>((res) => { this.waiting = res; setTimeout(res, 50); });
      this.waiting = null;
    }
  }

  close(): void { this.socket.destroy(); }
}

function parse(b: Buffer, at: number): { value: Reply; next: number } | null {
  const eol = b.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = b.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(b[at]!)) {
    case '+': return { value: line, next };
    case '-': return { value: new RespError(line), next };
    case ':': return { value: Number(line), next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      return b.length < next + n + 2 ? null : { value: b.toString('utf8', next, next + n), next: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      const out: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parse(b, pos);
        if (!item) return null;
        out.push(item.value);
        pos = item.next;
      }
      return { value: out, next: pos };
    }
    default: throw new Error(`unexpected RESP type ${JSON.stringify(b.toString('utf8', at, at + 1))}`);
  }
}
