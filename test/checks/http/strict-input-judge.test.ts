/**
 * http.strict-input's whole judge, on sample observations: no server. Each row is what a probe could
 * have seen; the verdict and the phrase that names the break come from the judge alone.
 */
import { describe, expect, it } from 'vitest';
import {
  type InputAnswer,
  judgeStrictInput,
  type ProbeName,
  type StrictInputSeen,
} from '../../../checks/http/strict-input.js';
import { judgeTable } from '../../harness/judge-table.js';

const fourXx = Array.from({ length: 100 }, (_, index) => 400 + index);
const expectedOf: Record<ProbeName, number[]> = {
  baseline: [400, 422],
  'unknown field': [400, 422],
  'prototype key': [400, 422],
  'malformed JSON': fourXx,
  'wrong field type': fourXx,
  'non-object body': fourXx,
  'oversized body': [413],
  'wrong content type': [400, 415, 422],
};
const strictStatus: Record<ProbeName, number> = {
  baseline: 401,
  'unknown field': 400,
  'prototype key': 400,
  'malformed JSON': 400,
  'wrong field type': 400,
  'non-object body': 422,
  'oversized body': 413,
  'wrong content type': 415,
};
const names = Object.keys(strictStatus) as ProbeName[];

function answered(name: ProbeName, status: number): InputAnswer {
  return {
    name,
    sent: `the ${name} body`,
    expected: expectedOf[name],
    answer: { status, excerpt: '{}' },
    failure: undefined,
  };
}
const strict = names.map((name) => answered(name, strictStatus[name]));
const request = 'POST https://127.0.0.1:8443/api/v1/auth/login';

/** The strict sample with the `name` body answered `status`. */
function answering(name: ProbeName, status: number): StrictInputSeen {
  return { request, answers: strict.map((probe) => (probe.name === name ? answered(name, status) : probe)) };
}

judgeTable<StrictInputSeen>('judgeStrictInput', (seen) => judgeStrictInput(seen), [
  {
    name: 'every malformed body rejected, the baseline processed',
    seen: { request, answers: strict },
    status: 'pass',
    expect: /rejects unknown fields, malformed, mistyped, oversized and wrong-content-type bodies without a 5xx$/,
  },
  {
    name: 'an unknown field processed',
    seen: answering('unknown field', 201),
    status: 'fail',
    expect: /^unknown field accepted: answered 201 \(processed\), expected 400 or 422$/,
  },
  {
    name: 'an unknown field treated as a normal request',
    seen: answering('unknown field', 401),
    status: 'fail',
    expect: /^unknown field accepted: answered 401 \(treated as a normal request\), expected 400 or 422$/,
  },
  {
    name: 'a __proto__ key accepted',
    seen: answering('prototype key', 200),
    status: 'fail',
    expect: /^prototype key accepted: answered 200/,
  },
  {
    name: 'malformed JSON crashes the service',
    seen: answering('malformed JSON', 500),
    status: 'fail',
    expect: /^malformed JSON caused a server error \(500\)$/,
  },
  {
    name: 'a field of another JSON type crashes the service',
    seen: answering('wrong field type', 500),
    status: 'fail',
    expect: /^wrong field type caused a server error \(500\)$/,
  },
  {
    name: 'a JSON array body crashes the service',
    seen: answering('non-object body', 502),
    status: 'fail',
    expect: /^non-object body caused a server error \(502\)$/,
  },
  {
    name: 'a JSON array body processed',
    seen: answering('non-object body', 200),
    status: 'fail',
    expect: /^non-object body answered 200, expected 4xx$/,
  },
  {
    name: 'no body limit',
    seen: answering('oversized body', 401),
    status: 'fail',
    expect: /^oversized body answered 401, expected 413$/,
  },
  {
    name: 'a wrong content type accepted',
    seen: answering('wrong content type', 401),
    status: 'fail',
    expect: /^wrong content type answered 401, expected 400 or 415 or 422$/,
  },
  {
    name: 'the baseline already rejected: nothing can be attributed',
    seen: answering('baseline', 422),
    status: 'error',
    expect: /^cannot attribute the rejections: the baseline body without unknown fields is already rejected \(422\)/,
  },
  {
    name: 'a body without an answer',
    seen: {
      request,
      answers: [
        ...strict.slice(0, -1),
        {
          ...answered('wrong content type', 0),
          answer: undefined,
          failure: { kind: 'reset', code: 'ECONNRESET', message: 'x' },
        },
      ],
    },
    status: 'error',
    expect: /^could not observe POST .*: wrong content type: reset \(ECONNRESET\)$/,
  },
  {
    name: 'no baseline sent: fail closed',
    seen: { request, answers: strict.slice(1) },
    status: 'error',
    expect: /baseline: not sent$/,
  },
  {
    name: 'only the baseline sent: nothing about strictness was seen',
    seen: { request, answers: strict.slice(0, 1) },
    status: 'error',
    expect:
      /: unknown field: not sent; prototype key: not sent; malformed JSON: not sent; wrong field type: not sent; non-object body: not sent; oversized body: not sent; wrong content type: not sent$/,
  },
  {
    name: 'the oversized body never sent, the rest rejected',
    seen: { request, answers: strict.filter((probe) => probe.name !== 'oversized body') },
    status: 'error',
    expect: /^could not observe POST .*: oversized body: not sent$/,
  },
]);

describe('judgeStrictInput', () => {
  it('names the whole 4xx range as 4xx', () => {
    const malformed = judgeStrictInput({ request, answers: strict }).observations.find((observation) =>
      observation.probe.endsWith('[malformed JSON]'),
    );
    expect(malformed?.expected).toEqual({ status: '4xx' });
  });
});
