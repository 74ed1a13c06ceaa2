// otp-local starts this as a child process: dynalite on a free loopback
// port, announced as one JSON line on stdout. It exits when otp-local
// closes its stdin, so it never outlives its parent.
'use strict'
const dynalite = require('dynalite')

const opts = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }
if (process.env.DYNALITE_PATH) opts.path = process.env.DYNALITE_PATH

const server = dynalite(opts)
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
})
server.on('error', (err) => {
  process.stderr.write('dynalite: ' + err.message + '\n')
  process.exit(1)
})
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
