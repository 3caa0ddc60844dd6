import { ApiProperty } from '@nestjs/swagger';

export type SettingSource = 'saved' | 'environment';

class NumberSettingDto {
  @ApiProperty() value!: number;
  @ApiProperty({ enum: ['saved', 'environment'], description: 'saved through this API, or from the environment (or its default)' }) source!: SettingSource;
}

class StringSettingDto {
  @ApiProperty() value!: string;
  @ApiProperty({ enum: ['saved', 'environment'] }) source!: SettingSource;
}

class StringListSettingDto {
  @ApiProperty({ type: [String], description: 'URLs are shown without their query strings' }) value!: string[];
  @ApiProperty({ enum: ['saved', 'environment'] }) source!: SettingSource;
}

class LanguageListSettingDto {
  @ApiProperty({ type: [String], example: ['zh', 'en'], description: 'BCP-47 language tags' }) value!: string[];
  @ApiProperty({ enum: ['saved', 'environment'] }) source!: SettingSource;
}

class ProxySettingDto {
  @ApiProperty({ type: String, nullable: true, example: 'http://proxy.lan:3128', description: 'the proxy without its credentials; null: direct' }) value!: string | null;
  @ApiProperty({ description: 'whether the proxy URL carries a user name or password (never shown)' }) credentialsSet!: boolean;
  @ApiProperty({ enum: ['saved', 'environment'] }) source!: SettingSource;
}

class SecretSettingDto {
  @ApiProperty({ description: 'whether a value is set; the value itself is never returned' }) set!: boolean;
  @ApiProperty({ enum: ['saved', 'environment'] }) source!: SettingSource;
}

/** GET /api/settings: each live setting, where its value comes from, secrets as `set` only. */
export class SettingsViewDto {
  @ApiProperty({ type: NumberSettingDto }) maxConcurrentDownloads!: NumberSettingDto;
  @ApiProperty({ type: StringSettingDto }) downloadDir!: StringSettingDto;
  @ApiProperty({ type: NumberSettingDto }) retryAttempts!: NumberSettingDto;
  @ApiProperty({ type: NumberSettingDto, description: 'bytes per second for all downloads together; 0: no limit' }) speedLimit!: NumberSettingDto;
  @ApiProperty({ type: ProxySettingDto }) proxy!: ProxySettingDto;
  @ApiProperty({ type: StringListSettingDto }) webhookUrls!: StringListSettingDto;
  @ApiProperty({ type: SecretSettingDto }) webhookSecret!: SecretSettingDto;
  @ApiProperty({ type: StringListSettingDto }) webhookEvents!: StringListSettingDto;
  @ApiProperty({ type: StringSettingDto, description: 'what tasks without their own quality download: "best", "audio" or a maximum picture height ("1080")' }) defaultQuality!: StringSettingDto;
  @ApiProperty({ type: LanguageListSettingDto, description: 'audio languages, best first, for tasks without their own' }) defaultAudioLanguage!: LanguageListSettingDto;
  @ApiProperty({ type: LanguageListSettingDto, description: 'subtitle languages saved for tasks without their own' }) defaultSubtitleLanguages!: LanguageListSettingDto;
}
