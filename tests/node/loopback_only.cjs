// Preloaded into Node tools the tests run (`node --require ./loopback_only.cjs ...`): every
// outgoing connection and DNS lookup to anything other than the loopback interface is refused
// before a packet is sent. Redocly CLI, for one, phones home (telemetry, update checks) unless
// told not to; the tests turn that off by environment too, and this guard makes sure.
'use strict';

const dns = require('node:dns');
const net = require('node:net');

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

function refuse(host) {
  const err = new Error(`loopback_only: connection to ${host} refused (tests talk to 127.0.0.1 only)`);
  err.code = 'ECONNREFUSED';
  return err;
}

function hostOf(args) {
  const first = args[0];
  if (Array.isArray(first)) return hostOf(first);
  if (first && typeof first === 'object') {
    if (first.path && !first.host && !first.port) return null; // a unix socket
    return first.host || 'localhost';
  }
  if (typeof first === 'string' && Number.isNaN(Number(first))) return null; // a unix socket path
  return typeof args[1] === 'string' ? args[1] : 'localhost';
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const host = hostOf(args);
  if (host !== null && !LOOPBACK.has(String(host).replace(/^\[|\]$/g, ''))) {
    process.nextTick(() => this.destroy(refuse(host)));
    return this;
  }
  return connect.apply(this, args);
};

function guardLookup(original) {
  return function guardedLookup(hostname, ...rest) {
    if (!LOOPBACK.has(String(hostname))) {
      const cb = rest.find((a) => typeof a === 'function');
      if (cb) {
        process.nextTick(() => cb(refuse(hostname)));
        return undefined;
      }
      return Promise.reject(refuse(hostname));
    }
    return original.call(this, hostname, ...rest);
  };
}

dns.lookup = guardLookup(dns.lookup);
dns.promises.lookup = guardLookup(dns.promises.lookup);
