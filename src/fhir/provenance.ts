/**
 * Who made the suggestions of a $suggest-conditions Bundle: a Provenance whose agent is a
 * Device describing the model (name, version, the software serving it) and whose entities are
 * the source documents. The AI Transparency IG (CI build) records AI involvement the same way:
 * Provenance.agent.who = the AI Device, entity = the inputs.
 */
import type { Device, Provenance, Reference } from '@medplum/fhirtypes';
import { SOFTWARE_VERSION } from '../paths';
import type { ModelInfo } from '../model/types';
import { PROVENANCE_PARTICIPANT_SYSTEM } from './constants';

/**
 * The model as a Device. `deviceName` type `model-name` holds the bundle's name; `version`
 * holds the model's version and the serving software's.
 */
export function modelDevice(model: ModelInfo): Device {
  return {
    resourceType: 'Device',
    deviceName: [{ name: model.name, type: 'model-name' }],
    type: { text: 'ICD-10-CM coding suggestion model (machine learning)' },
    version: [
      { type: { text: 'model' }, value: model.version },
      { type: { text: 'software' }, value: `icd10-cds ${SOFTWARE_VERSION}` },
    ],
    note: [{ text: model.clinicallyMeaningful ? 'Suggestions need review by a coder or clinician.' : 'Test model: not clinically meaningful.' }],
  };
}

/**
 * @param targets - full URLs of the suggested Conditions
 * @param device - full URL of the model's Device entry
 * @param sources - the documents the suggestions were derived from
 * @param recorded - when the suggestions were made
 */
export function suggestionProvenance(targets: readonly string[], device: string, sources: readonly Reference[], recorded: Date): Provenance {
  return {
    resourceType: 'Provenance',
    target: targets.map((reference) => ({ reference })),
    recorded: recorded.toISOString(),
    agent: [
      {
        type: { coding: [{ system: PROVENANCE_PARTICIPANT_SYSTEM, code: 'author', display: 'Author' }] },
        who: { reference: device },
      },
    ],
    ...(sources.length > 0 ? { entity: sources.map((what) => ({ role: 'source' as const, what })) } : {}),
  };
}
