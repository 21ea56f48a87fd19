// Baseline: the cheapest possible DNS "server" in Node.js — one UDP socket,
// one callback per packet, no parsing beyond finding the end of the question.
// Answers every A question with one fixed A record (10.0.0.1, TTL 60), any other
// type with NOERROR/NODATA, malformed packets not at all. It gives the floor
// for what Node's dgram path costs per query on this machine.
// usage: node bench/servers/node-dgram.mjs ADDR PORT
import dgram from 'node:dgram';

const [addr = '127.0.0.1', portArg = '5390'] = process.argv.slice(2);
if (!addr.startsWith('127.')) {
  console.error(`refusing non-loopback address ${addr}`);
  process.exit(2);
}
const port = Number(portArg);

// answer RR: name pointer to offset 12, type A, class IN, TTL 60, rdlen 4, 10.0.0.1
const ANSWER_A = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 17 || (msg[2] & 0x80) !== 0) return; // too short, or a response
  // walk the question name (uncompressed labels) to find QTYPE
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    if ((msg[i] & 0xc0) !== 0) return;
    i += msg[i] + 1;
  }
  const qend = i + 5; // zero byte + QTYPE + QCLASS
  if (qend > msg.length) return;
  const isA = msg[i + 1] === 0 && msg[i + 2] === 1;
  const out = Buffer.allocUnsafe(qend + (isA ? ANSWER_A.length : 0));
  msg.copy(out, 0, 0, qend);
  out[2] = 0x84 | (msg[2] & 0x01); // QR, AA, keep RD
  out[3] = 0x00; // RA=0, RCODE=NOERROR
  out[4] = 0; out[5] = 1; // QDCOUNT
  out[6] = 0; out[7] = isA ? 1 : 0; // ANCOUNT
  out[8] = 0; out[9] = 0; out[10] = 0; out[11] = 0; // NSCOUNT, ARCOUNT
  if (isA) ANSWER_A.copy(out, qend);
  sock.send(out, rinfo.port, rinfo.address);
});
sock.on('error', (err) => {
  console.error(`node-dgram: ${err.message}`);
  process.exit(1);
});
sock.bind(port, addr, () => console.log(`node-dgram listening on ${addr}:${port} (udp)`));

// exit through process.exit so that --cpu-prof / --prof output gets written
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => sock.close(() => process.exit(0)));
