#!/usr/bin/env node
/*
 * A Node.js client of the LMS built by the npm `soap` package from the live WSDL (nothing
 * hand-written about the messages). It plays the interoperability scenario and prints one JSON
 * object on stdout: {"stack": "node-soap", "mode": ..., "steps": [{"name", "operation", "ok",
 * "result" | "fault"}]}. tests/e2e/test_interop_clients.py runs it and checks the steps.
 *
 * Usage: node client.js --wsdl URL --mode basic|wsse --customer NUMBER [--amount 1000.00]
 *                       [--transactions-customer NUMBER] [--empty-customer NUMBER] [--run-id ID]
 * Credentials come from the environment, never argv (argv is visible to every local user):
 *   LMS_BANK_USERNAME, LMS_BANK_PASSWORD, LMS_SCORING_USERNAME, LMS_SCORING_PASSWORD
 */
'use strict';

const soap = require('soap');

const DECIDED = new Set(['APPROVED', 'REJECTED', 'FAILED', 'CANCELLED', 'CLOSED']);
const POLL_INTERVAL_MS = 100;
const POLL_DEADLINE_MS = 30000;
const REQUEST_TIMEOUT_MS = 10000;

function parseArgs(argv) {
  const args = {
    mode: 'basic',
    amount: '1000.00',
    'transactions-customer': '234774784',
    'empty-customer': '555000002',
    'run-id': String(Date.now()),
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      throw new Error(`bad argument ${argv[i]}`);
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ['wsdl', 'customer']) {
    if (!args[required]) {
      throw new Error(`--${required} is required`);
    }
  }
  if (!['basic', 'wsse'].includes(args.mode)) {
    throw new Error('--mode is basic or wsse');
  }
  return args;
}

function credential(role) {
  const username = process.env[`LMS_${role}_USERNAME`];
  const password = process.env[`LMS_${role}_PASSWORD`];
  if (!username || !password) {
    throw new Error(`LMS_${role}_USERNAME and LMS_${role}_PASSWORD must be set`);
  }
  return { username, password };
}

function security(mode, { username, password }) {
  if (mode === 'wsse') {
    // UsernameToken with PasswordText and a wsu:Timestamp (Created/Expires), as the LMS accepts.
    return new soap.WSSecurity(username, password, { passwordType: 'PasswordText', hasTimeStamp: true });
  }
  return new soap.BasicAuthSecurity(username, password);
}

async function makeClient(wsdl, mode, role) {
  // The WSDL is public: no credentials are needed to read it.
  const client = await soap.createClientAsync(wsdl, { wsdl_options: { timeout: REQUEST_TIMEOUT_MS } });
  client.setSecurity(security(mode, credential(role)));
  return client;
}

/* A SOAP fault as every stack reports it: faultcode, faultstring and the LmsFault detail. */
function readFault(err) {
  const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
  if (!fault) {
    return null;
  }
  const detail = (fault.detail && (fault.detail.LmsFault || fault.detail)) || {};
  return {
    faultcode: String(fault.faultcode),
    faultstring: String(fault.faultstring),
    httpStatus: err.response ? err.response.status : null,
    detail: {
      code: detail.code === undefined ? null : String(detail.code),
      loanId: detail.loanId === undefined ? null : String(detail.loanId),
      customerNumber: detail.customerNumber === undefined ? null : String(detail.customerNumber),
    },
  };
}

class Scenario {
  constructor() {
    this.steps = [];
  }

  async call(name, client, operation, args) {
    try {
      const [result] = await client[`${operation}Async`](args, { timeout: REQUEST_TIMEOUT_MS });
      this.steps.push({ name, operation, ok: true, result: result === null ? {} : result });
      return result;
    } catch (err) {
      const fault = readFault(err);
      if (!fault) {
        throw err; // not a SOAP fault: a transport or parsing failure of this stack
      }
      this.steps.push({ name, operation, ok: false, fault });
      return null;
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const bank = await makeClient(args.wsdl, args.mode, 'BANK');
  const scoring = await makeClient(args.wsdl, args.mode, 'SCORING');
  const s = new Scenario();
  const customerNumber = args.customer;
  const requestId = `node-${args.mode}-${args['run-id']}`;

  await s.call('register', bank, 'RegisterCustomer', { customerNumber });
  await s.call('get customer', bank, 'GetCustomer', { customerNumber });
  const submitted = await s.call('submit', bank, 'SubmitLoan', { customerNumber, amount: args.amount, requestId });
  if (!submitted) {
    // Nothing to follow up (wrong credentials, for one): report what happened so far.
    process.stdout.write(JSON.stringify({ stack: 'node-soap', mode: args.mode, steps: s.steps }) + '\n');
    return;
  }
  const loanId = submitted.loan.loanId;
  await s.call('submit replay', bank, 'SubmitLoan', { customerNumber, amount: args.amount, requestId });
  await s.call('second submit', bank, 'SubmitLoan', { customerNumber, amount: args.amount });

  // Poll until scoring decided (only the last status is kept as a step).
  const deadline = Date.now() + POLL_DEADLINE_MS;
  let status = null;
  for (;;) {
    const [reply] = await bank.GetLoanStatusAsync({ loanId }, { timeout: REQUEST_TIMEOUT_MS });
    status = reply;
    if (DECIDED.has(reply.loan.status) || Date.now() > deadline) {
      break;
    }
    await sleep(POLL_INTERVAL_MS);
  }
  s.steps.push({ name: 'status decided', operation: 'GetLoanStatus', ok: true, result: status });

  await s.call('status by customer', bank, 'GetLoanStatus', { customerNumber });
  await s.call('list', bank, 'ListLoans', { customerNumber, offset: 0, limit: 10 });
  const outstanding = status.loan.outstanding || args.amount;
  await s.call('repay too much', bank, 'RepayLoan', { loanId, amount: '99999999.00', reference: `${requestId}-x` });
  await s.call('repay', bank, 'RepayLoan', { loanId, amount: String(outstanding), reference: `${requestId}-r1` });
  const second = await s.call('submit again', bank, 'SubmitLoan', { customerNumber, amount: '500.00' });
  const secondId = second && second.loan ? second.loan.loanId : 'missing';
  await s.call('cancel', bank, 'CancelLoan', { loanId: secondId, reason: 'changed my mind' });
  await s.call('cancel again', bank, 'CancelLoan', { loanId: secondId });
  await s.call('unknown loan', bank, 'GetLoanStatus', { loanId: 'NOSUCHLOAN' });
  await s.call('transactions', scoring, 'GetTransactions', { customerNumber: args['transactions-customer'] });
  await s.call('no transactions', scoring, 'GetTransactions', { customerNumber: args['empty-customer'] });
  await s.call('transactions as bank', bank, 'GetTransactions', { customerNumber: args['transactions-customer'] });

  process.stdout.write(JSON.stringify({ stack: 'node-soap', mode: args.mode, steps: s.steps }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`node client failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
