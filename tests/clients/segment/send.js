// Segment's Webhooks (Actions) destination, as published on npm, sends to
// Rivulet: single events with each method Segment offers, a batch
// (`performBatch`, signed over its first event only) and a retry of an
// event already delivered. Usage: node send.js URL SHARED_SECRET
// Prints one JSON line per request with the events it carried; exits
// non-zero unless each got a 2xx.
'use strict'

const { createTestIntegration, createTestEvent } = require('@segment/actions-core')
const webhook = require('@segment/action-destinations/dist/destinations/webhook').default

async function main() {
  const [url, sharedSecret] = process.argv.slice(2)
  const destination = createTestIntegration(webhook)
  const settings = { sharedSecret }
  const event = (n) =>
    createTestEvent({
      messageId: `seg-${n}`,
      userId: `user-${n}`,
      event: 'Order Completed',
      properties: { revenue: n * 10, plan: n % 2 ? 'Pro' : 'Free' }
    })
  const results = []
  for (const [n, method] of [[1, 'POST'], [2, 'PUT'], [3, 'PATCH']]) {
    const sent = event(n)
    const responses = await destination.testAction('send', {
      event: sent,
      mapping: { url, method },
      settings,
      useDefaultMappings: true
    })
    results.push({ kind: `single ${method}`, status: responses[0].status, sent: [sent] })
  }
  const batched = [event(4), event(5), event(6)]
  const batch = await destination.testBatchAction('send', {
    events: batched,
    mapping: { url, method: 'POST' },
    settings,
    useDefaultMappings: true
  })
  results.push({ kind: 'batch', status: batch[0].status, sent: batched })
  // Segment retries when it did not get the answer: the same event again.
  const retry = await destination.testAction('send', {
    event: event(1),
    mapping: { url, method: 'POST' },
    settings,
    useDefaultMappings: true
  })
  results.push({ kind: 'retry', status: retry[0].status, sent: [] })
  for (const r of results) console.log(JSON.stringify(r))
  if (results.some((r) => r.status < 200 || r.status > 299)) process.exit(1)
}

main().catch((e) => {
  console.error(e && e.response ? `HTTP ${e.response.status}: ${e.message}` : e)
  process.exit(1)
})
