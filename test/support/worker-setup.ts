/**
 * vitest setupFiles: runs in each worker before a test file, and hands it
 * what test/support/global-setup.ts made once for the whole run. Imports only
 * light modules: it runs for every file, most of which need neither.
 */
import { inject } from 'vitest';
import { supplyRsaKeyPool } from '../../fixtures/tls/key-pool.js';
import { useSharedReferencePki } from './reference-pki.js';

supplyRsaKeyPool(inject('rsaKeyPool'));
useSharedReferencePki(inject('referencePkiDir'));
