import { describe, expect, it } from 'vitest';
import { compileModelPredictionLog } from '../config/prediction-log-config.ts';
import { predictionLogWidening } from './override-rules.ts';

const log = compileModelPredictionLog;

describe('predictionLogWidening', () => {
  it.each([
    ['the same config', log({ sampleRate: 0.1 }), log({ sampleRate: 0.1 }), undefined],
    ['a lower sample rate', log({ sampleRate: 0.5 }), log({ sampleRate: 0.1 }), undefined],
    ['a higher sample rate', log({ sampleRate: 0.01 }), log({ sampleRate: 1 }), "predictionLog.sampleRate 1 is above the model's own 0.01"],
    ['logging switched on from the default (off)', log(undefined), log({ sampleRate: 0.2 }), "predictionLog.sampleRate 0.2 is above the model's own 0"],
    ['a dropped input kept', log({ sampleRate: 1, fields: { ssn: 'drop' } }), log({ sampleRate: 1, fields: { ssn: 'keep' } }), "predictionLog.fields.ssn keep records more than the model's own drop"],
    ['a hashed input left to a keeping default', log({ sampleRate: 1, fields: { ssn: 'hash' } }), log({ sampleRate: 1 }), "predictionLog.fields.ssn keep records more than the model's own hash"],
    ['a looser default rule', log({ sampleRate: 1, defaultRule: 'drop' }), log({ sampleRate: 1, defaultRule: 'hash' }), "predictionLog.defaultRule hash records more than the model's own drop"],
    ['a stricter rule', log({ sampleRate: 1, fields: { ssn: 'hash' } }), log({ sampleRate: 1, fields: { ssn: 'drop' } }), undefined],
    ['looser rules with nothing recorded', log({ sampleRate: 0, defaultRule: 'drop' }), log({ sampleRate: 0, defaultRule: 'keep' }), undefined],
  ])('%s', (_, base, override, expected) => {
    expect(predictionLogWidening(base, override)).toBe(expected);
  });
});
