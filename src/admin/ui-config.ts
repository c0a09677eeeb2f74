// ui-config.ts — the web tree browser's zoo.cfg keys (zkts's own; as every key that is not
// QuorumPeerConfig's, they reach ServerConfig.properties as zookeeper.<key>):
//   zkts.admin.ui.enable   true (default): the AdminServer serves the browser at /ui
//   zkts.admin.ui.edit     false (default): true lets authenticated requests create, set and delete
import { ZktsError } from '../errors.js';
import type { ServerConfig } from '../server/config.js';

export interface UiConfig {
  enable: boolean;
  edit: boolean;
  x509SuperUser?: string;
}

function bool(props: ReadonlyMap<string, string>, key: string, dflt: boolean): boolean {
  const v = props.get(`zookeeper.${key}`);
  if (v === undefined) return dflt;
  const t = v.trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw new ZktsError('ZKTS_ERR_CONFIG', `${key}: "${v}" is not true or false`);
}

export function uiConfig(cfg: Pick<ServerConfig, 'properties'>): UiConfig {
  const superUser = cfg.properties.get('zookeeper.X509AuthenticationProvider.superUser');
  return {
    enable: bool(cfg.properties, 'zkts.admin.ui.enable', true),
    edit: bool(cfg.properties, 'zkts.admin.ui.edit', false),
    ...(superUser === undefined ? {} : { x509SuperUser: superUser }),
  };
}
