// The wiring of roles moved to the composition root in app/; kept so imports of the old path work.
export { runRoles, type Roles, type RunningRoles } from '../../app/run-roles.js';
