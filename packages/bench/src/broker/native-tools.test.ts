import { describe, expect, it } from 'vitest';
import { findDebianSource } from './native-tools.js';

describe('findDebianSource', () => {
  it('takes the main archive from a deb822 file, not the security one', () => {
    const text = [
      'Types: deb',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
    ].join('\n');
    expect(findDebianSource([{ name: '/etc/apt/sources.list.d/debian.sources', text }])).toEqual({
      uri: 'http://deb.debian.org/debian',
      suite: 'bookworm',
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
  });

  it('reads one-line entries with options and skips comments and other components', () => {
    const text = [
      '# deb http://old.example/debian buster main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
      'deb https://packages.example.com/apt cloud-sdk contrib',
      'deb [arch=amd64 signed-by=/k.gpg] http://mirror.local/debian trixie main contrib',
    ].join('\n');
    expect(findDebianSource([{ name: '/etc/apt/sources.list', text }])).toEqual({
      uri: 'http://mirror.local/debian',
      suite: 'trixie',
      signedBy: '/k.gpg',
    });
  });

  it('is null without a Debian main entry', () => {
    expect(findDebianSource([{ name: '/etc/apt/sources.list', text: '' }])).toBeNull();
  });
});
