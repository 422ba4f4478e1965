#!/usr/bin/env node
import { launchBuiltApp } from '../../../scripts/launch-built-app.mjs';

await launchBuiltApp('meshctl');
