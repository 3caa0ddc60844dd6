import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiEnvelope, ApiErrors } from '../common/api-envelope.decorator.js';
import { SettingsViewDto } from './settings-view.dto.js';
import { SettingsService } from './settings.service.js';
import { UpdateSettingsDto } from './update-settings.dto.js';

@ApiTags('settings')
@ApiErrors(400, 401)
@Controller('settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @ApiOperation({ summary: 'The settings that can change at run time, with where each value comes from (secrets only as set/unset)' })
  @ApiEnvelope(SettingsViewDto)
  view(): SettingsViewDto {
    return this.settings.view();
  }

  @Put()
  @ApiOperation({ summary: 'Change settings live for the whole installation; null returns a setting to its environment value' })
  @ApiEnvelope(SettingsViewDto)
  update(@Body() body: UpdateSettingsDto): Promise<SettingsViewDto> {
    return this.settings.update(body);
  }
}
