// Asks jsonwebtoken (9.0.0) about every case: jwt.verify(token, key, {audience, issuer, algorithms,
// clockTolerance, clockTimestamp}), its normal synchronous call.
import { load, run, versionOf } from './common.mjs';

const jwt = load('jsonwebtoken');

await run('jsonwebtoken', versionOf('jsonwebtoken'), (item, input) => {
  // The key as an application passes it: the HMAC secret as a string, the RSA public key as PEM text.
  const key = item.key === 'hs' ? input.secret : input.public_pem;
  const options = {
    algorithms: item.algorithms,
    clockTolerance: item.leeway,
    // verify.js: `options.clockTimestamp || Math.floor(Date.now() / 1000)`: the library's own clock reads
    // whole seconds, so the instant is given as the library would read it at that moment.
    clockTimestamp: Math.floor(item.at_ms / 1000),
  };
  if (item.audience !== null) {
    options.audience = item.audience.length === 1 ? item.audience[0] : item.audience;
  }
  if (item.issuer !== null) {
    options.issuer = item.issuer;
  }
  jwt.verify(item.token, key, options);
});
