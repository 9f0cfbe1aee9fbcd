/**
 * The coding setting of an encounter, from its class (FHIR R4 Encounter.class, v3 ActCode
 * ActEncounterCode): inpatient stays follow the inpatient guidelines (ICD-10-CM Official
 * Guidelines Sections II and III); ambulatory, emergency, observation, home and virtual
 * encounters the outpatient ones (Section IV, which covers emergency department and
 * observation stays).
 */
import type { Encounter } from '@medplum/fhirtypes';
import type { Setting } from '../assign/code-note';

const CLASSES: Readonly<Record<string, Setting>> = {
  IMP: 'inpatient',
  ACUTE: 'inpatient',
  NONAC: 'inpatient',
  AMB: 'outpatient',
  EMER: 'outpatient',
  OBSENC: 'outpatient',
  HH: 'outpatient',
  VR: 'outpatient',
  SS: 'outpatient',
  PRENC: 'outpatient',
};

/** @param encounter - an Encounter resource (tolerant reader: a class of another form is ignored) */
export function settingOfEncounter(encounter: Pick<Encounter, 'class'> | undefined): Setting | undefined {
  const code = encounter?.class?.code;
  return typeof code === 'string' ? CLASSES[code] : undefined;
}
